/**
 * Meta reports audience size as a range, never an exact count. The sandbox rounds the stored row count
 * (every valid row "matches") down to two significant digits for the lower bound, and 15% above it, rounded
 * up to two significant digits, for the upper bound. Meta's exact rounding is not documented (UNCONFIRMED).
 */
export function sizeBounds(members: number): { lower: number; upper: number } {
  if (members <= 0) return { lower: 0, upper: 0 };
  return { lower: roundSig(members, Math.floor), upper: Math.max(roundSig(members * 1.15, Math.ceil), 1) };
}

function roundSig(n: number, round: (x: number) => number): number {
  if (n < 100) return round(n);
  const scale = 10 ** (Math.floor(Math.log10(n)) - 1);
  return round(n / scale) * scale;
}

export interface AudienceStatus {
  code: number;
  description: string;
}

/** delivery_status: 200 ready; 300 when below the minimum size (100 by default; UNCONFIRMED 100 vs 1,000). */
export function deliveryStatus(members: number, minSize: number): AudienceStatus {
  return members >= minSize
    ? { code: 200, description: 'This audience is ready for use.' }
    : { code: 300, description: 'This audience is too small to use. Add more people.' };
}

export const OperationStatus = {
  Normal: { code: 200, description: 'Normal' },
  ReplaceInProgress: { code: 414, description: 'Replace in progress' },
  Flagged: {
    code: 471,
    description: 'This audience was flagged for a possible integrity policy violation and cannot be edited or used.',
  },
  NoUpload: { code: 410, description: 'No upload: this audience has no customer file uploaded yet.' },
} as const satisfies Record<string, AudienceStatus>;
