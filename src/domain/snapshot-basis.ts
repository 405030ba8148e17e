import { MAPPABLE_KEYS, type AttributeMapping, type KeyIdentifier } from './mapping.js';
import { sha256Hex } from './sha256.js';

/**
 * How snapshot rows are computed, beyond the configuration: bump it when the fingerprint (src/sources/staging.ts)
 * or the way cells are derived changes, so every audience's next mirror run replaces it instead of diffing rows
 * made the old way. 1: jsonb fingerprints (before #24); 2: fingerprints of the typed staging values.
 */
export const SNAPSHOT_FORMAT = 2;

export interface BasisInput {
  readonly keyIdentifier: KeyIdentifier;
  readonly mapping: AttributeMapping;
  readonly defaultCountry?: string | null;
  readonly consentAttribute?: string | null;
  readonly limitedDataUse?: boolean;
}

/**
 * A digest of everything that decides an audience's rows: which profiles are sent (key identifier, consent
 * attribute), their cells (mapping, default country, Limited Data Use) and their fingerprints (the mapped
 * attributes). A mirror run diffs against the snapshot only when its basis is the snapshot's; otherwise rows sent
 * under the old basis would stay in the audience for good (#28), so the run replaces it.
 */
export function snapshotBasis(input: BasisInput): string {
  const mapping = MAPPABLE_KEYS.flatMap((key) => {
    const mapped = input.mapping[key];
    return mapped === undefined ? [] : [[key, mapped.attribute, mapped.prehashed === true]];
  });
  return sha256Hex(
    JSON.stringify({
      format: SNAPSHOT_FORMAT,
      keyIdentifier: input.keyIdentifier,
      mapping,
      defaultCountry: input.defaultCountry || null,
      consentAttribute: input.consentAttribute || null,
      limitedDataUse: input.limitedDataUse === true,
    }),
  );
}

/** Why a mirror run replaces the audience instead of diffing against its snapshot, in words for its report. */
export const ModeReason = {
  /** The configured mode. */
  Configured: 'configured',
  /** A first mirror run on an audience we have no snapshot of, and that has members: a replace. */
  AudienceHasMembers: 'audience_has_members',
  /** A first mirror run on an empty audience: everything is added. */
  FirstExport: 'first_export',
  /** The snapshot was made under another mapping, key identifier, default country, consent attribute or LDU. */
  BasisChanged: 'basis_changed',
  /** The snapshot was made by an earlier version of this service, whose fingerprints are not comparable. */
  FormatChanged: 'format_changed',
  /** Rows were added in add mode under another basis: the snapshot mixes bases. */
  BasisMixed: 'basis_mixed',
  /** A mirror refresh: the diff against the snapshot. */
  Refresh: 'refresh',
} as const;
export type ModeReason = (typeof ModeReason)[keyof typeof ModeReason];

export const MODE_REASON_TEXT: Readonly<Record<ModeReason, string>> = {
  configured: 'the configured mode',
  audience_has_members:
    'a first mirror export to an audience that already has members: replaced, so it holds only the segment',
  first_export: 'a first mirror export to an empty audience: every member is added',
  basis_changed:
    'the mapping, key identifier, default country, consent attribute or Limited Data Use changed since the ' +
    'audience was last exported: replaced, so rows sent under the old settings go',
  format_changed:
    'the audience was last exported by an earlier version whose snapshot cannot be compared: replaced once',
  basis_mixed: 'add-mode runs sent rows under other settings: replaced, so rows sent under the old settings go',
  refresh: 'a mirror refresh: only who joined, changed or left is sent',
};
