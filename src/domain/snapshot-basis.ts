import { sha256Hex } from './sha256.js';

/**
 * How snapshot rows are computed: bump it when the fingerprint (src/sources/staging.ts) or the way cells are
 * derived changes, so every audience's next mirror run replaces it instead of diffing rows made the old way.
 * 1: jsonb fingerprints (before #24); 2: fingerprints of the typed staging values.
 */
export const SNAPSHOT_FORMAT = 2;

/** A digest of what decides an audience's snapshot rows; a mirror run diffs only against a snapshot of its own basis. */
export function snapshotBasis(): string {
  return sha256Hex(JSON.stringify({ format: SNAPSHOT_FORMAT }));
}

/** Why a run uses its mode, for its report. */
export const ModeReason = {
  /** The configured mode. */
  Configured: 'configured',
  /** A first mirror run on an audience we have no snapshot of, and that has members: a replace. */
  AudienceHasMembers: 'audience_has_members',
  /** A first mirror run on an empty audience: everything is added. */
  FirstExport: 'first_export',
  /** The snapshot was made by an earlier version of this service, whose fingerprints are not comparable. */
  FormatChanged: 'format_changed',
  /** A mirror refresh: the diff against the snapshot. */
  Refresh: 'refresh',
} as const;
export type ModeReason = (typeof ModeReason)[keyof typeof ModeReason];
