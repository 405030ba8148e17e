/** Stable codes for every failure of the profile source, so callers (and Temporal) can branch on them. */
export const SourceErrorCode = {
  InvalidSourceConfig: 'INVALID_SOURCE_CONFIG',
  UnknownSegment: 'UNKNOWN_SEGMENT',
  UnknownAttribute: 'UNKNOWN_ATTRIBUTE',
  SegmentTooLarge: 'SEGMENT_TOO_LARGE',
  InvalidRunId: 'INVALID_RUN_ID',
  FrozenRunNotFound: 'FROZEN_RUN_NOT_FOUND',
} as const;
export type SourceErrorCode = (typeof SourceErrorCode)[keyof typeof SourceErrorCode];

/** Base of every profile-source error. Messages name configuration, never profile data. */
export abstract class SourceError extends Error {
  abstract readonly code: SourceErrorCode;
}

/** The source configuration is wrong; `field` says where (e.g. `membership.table`). */
export class SourceConfigError extends SourceError {
  override readonly name = 'SourceConfigError';
  readonly code = SourceErrorCode.InvalidSourceConfig;
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`Profile source configuration: ${field}: ${problem}`, options);
  }
}

export class UnknownSegmentError extends SourceError {
  override readonly name = 'UnknownSegmentError';
  readonly code = SourceErrorCode.UnknownSegment;
  constructor(readonly segments: readonly string[]) {
    super(
      `Unknown segment${segments.length > 1 ? 's' : ''} ${segments.map((s) => `'${s}'`).join(', ')}: ` +
        'list the segments the source offers and pick one of those.',
    );
  }
}

export class UnknownAttributeError extends SourceError {
  override readonly name = 'UnknownAttributeError';
  readonly code = SourceErrorCode.UnknownAttribute;
  constructor(
    readonly attributes: readonly string[],
    readonly table: string,
  ) {
    super(
      `The profiles table ${table} has no column ${attributes.map((a) => `'${a}'`).join(', ')}: ` +
        'fix the attribute mapping to name existing columns (names are case-sensitive).',
    );
  }
}

/** Freeze found more members than the configured limit; the staging table has been dropped. */
export class SegmentTooLargeError extends SourceError {
  override readonly name = 'SegmentTooLargeError';
  readonly code = SourceErrorCode.SegmentTooLarge;
  constructor(
    readonly runId: string,
    readonly segments: readonly string[],
    readonly limit: number,
  ) {
    super(
      `Segment ${segments.map((s) => `'${s}'`).join(' + ')} has more than ${limit} profiles, the export limit: ` +
        'export a smaller segment or raise EXPORT_MAX_PROFILES.',
    );
  }
}

export class InvalidRunIdError extends SourceError {
  override readonly name = 'InvalidRunIdError';
  readonly code = SourceErrorCode.InvalidRunId;
  constructor() {
    // The value is not echoed: it failed validation, so it may be anything.
    super('A run id must be a UUID (it names the run staging table).');
  }
}

export class FrozenRunNotFoundError extends SourceError {
  override readonly name = 'FrozenRunNotFoundError';
  readonly code = SourceErrorCode.FrozenRunNotFound;
  constructor(readonly runId: string) {
    super(`Run ${runId} has no frozen members (never frozen, or already dropped): freeze the run again.`);
  }
}
