/**
 * Meta's rate-limit headers (reference 6.3), parsed defensively: names are case-insensitive, values are JSON
 * strings, and any of them may be missing or malformed. A malformed header is dropped, never fatal.
 */

/** One business-use-case quota entry; counts and times are percent (0–100), regain time is minutes. */
export interface BucUsage {
  type: string;
  callCount: number;
  totalCputime: number;
  totalTime: number;
  estimatedTimeToRegainAccessMinutes: number;
  accessTier?: string;
}

export interface AppUsage {
  callCount: number;
  totalTime: number;
  totalCputime: number;
}

export interface AdAccountUsage {
  utilPct: number;
  resetTimeDurationSeconds: number;
  accessTier?: string;
}

export interface GraphUsage {
  /** `x-business-use-case-usage`, keyed by business-object id (bare ad account digits for ad accounts). */
  business: Record<string, BucUsage[]>;
  app?: AppUsage;
  adAccount?: AdAccountUsage;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
};

function parseBucEntry(raw: unknown): BucUsage | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const e = raw as Record<string, unknown>;
  return {
    type: typeof e.type === 'string' ? e.type : 'unknown',
    callCount: num(e.call_count),
    totalCputime: num(e.total_cputime),
    totalTime: num(e.total_time),
    estimatedTimeToRegainAccessMinutes: num(e.estimated_time_to_regain_access),
    ...(typeof e.ads_api_access_tier === 'string' ? { accessTier: e.ads_api_access_tier } : {}),
  };
}

/** Reads the three usage headers from one response; returns undefined when none is present. */
export function parseUsageHeaders(headers: HeaderBag): GraphUsage | undefined {
  const bucRaw = parseJsonObject(header(headers, 'x-business-use-case-usage'));
  const appRaw = parseJsonObject(header(headers, 'x-app-usage'));
  const accRaw = parseJsonObject(header(headers, 'x-ad-account-usage'));
  if (!bucRaw && !appRaw && !accRaw) return undefined;

  const business: Record<string, BucUsage[]> = {};
  for (const [id, entries] of Object.entries(bucRaw ?? {})) {
    const list = (Array.isArray(entries) ? entries : [entries]).map(parseBucEntry).filter((e) => e !== undefined);
    if (list.length > 0) business[id] = list;
  }
  const usage: GraphUsage = { business };
  if (appRaw) {
    usage.app = {
      callCount: num(appRaw.call_count),
      totalTime: num(appRaw.total_time),
      totalCputime: num(appRaw.total_cputime),
    };
  }
  if (accRaw) {
    usage.adAccount = {
      utilPct: num(accRaw.acc_id_util_pct),
      resetTimeDurationSeconds: num(accRaw.reset_time_duration),
      ...(typeof accRaw.ads_api_access_tier === 'string' ? { accessTier: accRaw.ads_api_access_tier } : {}),
    };
  }
  return usage;
}

/** The BUC entries for one ad account (the header keys it by bare digits; `act_` keys are accepted too). */
export function bucUsageFor(usage: GraphUsage | undefined, adAccountId: string): BucUsage[] | undefined {
  if (!usage) return undefined;
  const digits = adAccountId.replace(/^act_/, '');
  return usage.business[digits] ?? usage.business[`act_${digits}`];
}

/**
 * How long Meta says to wait, in ms: the ad account's `estimated_time_to_regain_access` (minutes) when the
 * account is known and present, else the largest across all entries; then `x-ad-account-usage`'s reset time
 * when that account is fully used. Undefined when no header names a wait.
 */
export function regainAccessMs(usage: GraphUsage | undefined, adAccountId?: string): number | undefined {
  if (!usage) return undefined;
  const entries = (adAccountId ? bucUsageFor(usage, adAccountId) : undefined) ?? Object.values(usage.business).flat();
  const minutes = Math.max(0, ...entries.map((e) => e.estimatedTimeToRegainAccessMinutes));
  if (minutes > 0) return minutes * 60_000;
  if (usage.adAccount && usage.adAccount.utilPct >= 100 && usage.adAccount.resetTimeDurationSeconds > 0) {
    return usage.adAccount.resetTimeDurationSeconds * 1000;
  }
  return undefined;
}
