import { ApplicationFailure } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import {
  AppCredentialsError,
  AuthError,
  GraphApiError,
  InvalidRequestError,
  InvalidRequestReason,
  PermissionError,
  TermsNotAcceptedError,
} from '../facebook/index.js';
import { SegmentTooLargeError, UnknownAttributeError, UnknownSegmentError } from '../sources/errors.js';
import { DestinationStatus, NotFoundError, type Store } from '../store/index.js';
import { ExportFailureType, FailureType } from '../workflows/contracts.js';

/**
 * Waits out a rate-limit block on the ad account (set by any export to it) before calling Meta: Temporal retries
 * the activity when the block ends, and nothing calls Meta during it (calls during a block extend it).
 */
export async function awaitAdAccount(store: Store, adAccountId: string): Promise<void> {
  const block = await store.adAccountBlocks.get(adAccountId);
  if (!block) return;
  throw ApplicationFailure.create({
    type: FailureType.AdAccountBlocked,
    message: `Waiting for Facebook's rate-limit block on ${adAccountId} to end: ${block.reason}`,
    nextRetryDelay: Math.max(1, block.blockedUntil.getTime() - Date.now()),
    category: ApplicationFailureCategory.BENIGN,
  });
}

/** A failure Temporal must not retry; its message is for the operator and holds nothing personal. */
export function nonRetryable(type: ExportFailureType, message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    cause: cause instanceof Error ? cause : undefined,
  });
}

/**
 * The destination of the run was deleted (or is being deleted) under it: a snapshot write found it gone
 * (store `holdDestination`). Not retried: nothing of the run may be written any more.
 */
export function destinationGone(err: unknown, destinationId: string): ApplicationFailure | undefined {
  if (!(err instanceof NotFoundError) || err.entity !== 'destination') return undefined;
  return nonRetryable(
    ExportFailureType.DestinationNotFound,
    `Destination ${destinationId} was deleted while its export ran; nothing more of the run is recorded.`,
  );
}

/**
 * Turns permanent errors from Facebook and the source into non-retryable failures that say what to do, and
 * marks the destination when an operator must act (reconnect, accept terms). Transient errors pass through
 * unchanged, so Temporal retries them with backoff.
 */
export async function classifyFailure(
  err: unknown,
  store: Store,
  destinationId: string,
  /** The audience the failed call went to, so an operator learns which one (Graph's messages name none). */
  audienceId?: string,
): Promise<unknown> {
  const gone = destinationGone(err, destinationId);
  if (gone) return gone;
  if (err instanceof AppCredentialsError)
    return nonRetryable(ExportFailureType.AppCredentialsInvalid, err.message, err);
  if (err instanceof AuthError) {
    await store.destinations.setStatus(destinationId, DestinationStatus.NeedsReconnect);
    return nonRetryable(ExportFailureType.TokenInvalid, `Reconnect Facebook: ${err.message}`, err);
  }
  if (err instanceof TermsNotAcceptedError) {
    await store.destinations.setStatus(destinationId, DestinationStatus.NeedsTerms);
    return nonRetryable(ExportFailureType.TermsNotAccepted, err.message, err);
  }
  if (err instanceof PermissionError) {
    await store.destinations.setStatus(destinationId, DestinationStatus.NeedsReconnect);
    return nonRetryable(
      ExportFailureType.PermissionMissing,
      `Facebook refused the call for lack of permission; reconnect with ads_management and check the ad account's roles: ${err.message}`,
      err,
    );
  }
  if (err instanceof InvalidRequestError) {
    const unusable =
      err.reason === InvalidRequestReason.audienceMissing || err.reason === InvalidRequestReason.audienceFlagged;
    if (!unusable) return nonRetryable(ExportFailureType.RequestRejected, err.message, err);
    const message = audienceId ? `Audience ${audienceId} can no longer be updated: ${err.message}` : err.message;
    return nonRetryable(ExportFailureType.AudienceUnusable, message, err);
  }
  if (err instanceof GraphApiError && !err.retryable) {
    return nonRetryable(ExportFailureType.RequestRejected, err.message, err);
  }
  if (err instanceof SegmentTooLargeError) return nonRetryable(ExportFailureType.SegmentTooLarge, err.message, err);
  if (err instanceof UnknownSegmentError || err instanceof UnknownAttributeError) {
    return nonRetryable(ExportFailureType.UnknownSegment, err.message, err);
  }
  return err;
}

/**
 * PostgreSQL's SQLSTATE classes no retry fixes: the same query fails the same way until someone changes the
 * schema, the data, the profile source or a grant.
 */
const PERMANENT_SQLSTATE_CLASSES: Readonly<Record<string, string>> = {
  '22': 'a data exception: a value the query cannot take, e.g. a cast in a segment condition',
  '42': 'a syntax error or access rule violation: a table or column missing or renamed, a type mismatch, a grant',
};

/** The SQLSTATE of a PostgreSQL error (pg's or PGlite's), looked for through causes; undefined for other errors. */
function sqlStateOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure) return undefined; // already classified
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && severity !== undefined) return code;
  }
  return undefined;
}

/**
 * A PostgreSQL error of class 22 or 42 as a non-retryable failure of `step`, else undefined. The message gives the
 * SQLSTATE and what to check, never the database's own text: it can quote the failing value (a profile's e-mail
 * in `invalid input syntax for type integer: "…"`) or the query, and it would reach the workflow's history.
 */
export function permanentSqlFailure(err: unknown, step: string): ApplicationFailure | undefined {
  const code = sqlStateOf(err);
  const kind = code && PERMANENT_SQLSTATE_CLASSES[code.slice(0, 2)];
  if (!code || !kind) return undefined;
  return ApplicationFailure.create({
    type: ExportFailureType.QueryRejected,
    message:
      `PostgreSQL refused a query of the ${step} step with SQLSTATE ${code} (${kind}); retrying cannot help. ` +
      'Check the profile source (PROFILE_SOURCE: tables, columns, segment conditions) against the source ' +
      "database's schema and data, that our tables are migrated, and the database role's grants, then run the " +
      "export again. The value and query are not shown here (they may hold personal data); PostgreSQL's log has them.",
    nonRetryable: true,
  });
}

/** Runs an activity's work, turning a PostgreSQL error no retry fixes into a failure that says what to check. */
export async function failingBadSql<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw permanentSqlFailure(err, step) ?? err;
  }
}
