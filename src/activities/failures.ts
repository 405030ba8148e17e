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
import { DestinationStatus, type Store } from '../store/index.js';
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
