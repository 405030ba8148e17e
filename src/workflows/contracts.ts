/**
 * What travels between the export workflow, its activities and its clients. Only ids, counts and page
 * numbers: rows, hashes and tokens never enter workflow history (activities load them by id).
 */
import type { DropCounts, ExportMode, ExportTrigger } from '../domain/export-terms.js';

/**
 * Failure types Temporal must not retry: thrown by activities with `ApplicationFailure.nonRetryable(message, type)`
 * and listed in the workflow's `nonRetryableErrorTypes`. Each message says what the operator must do.
 */
export const ExportFailureType = {
  DestinationNotFound: 'DestinationNotFound',
  /** A draft: no ad account or audience chosen yet. */
  DestinationIncomplete: 'DestinationIncomplete',
  ConsentMissing: 'ConsentMissing',
  ExportConfigMissing: 'ExportConfigMissing',
  /** The config maps a column the profile source does not allow in clear to EXTERN_ID or MADID. */
  ExportConfigRefused: 'ExportConfigRefused',
  FacebookNotConnected: 'FacebookNotConnected',
  TokenInvalid: 'FacebookTokenInvalid',
  PermissionMissing: 'FacebookPermissionMissing',
  TermsNotAccepted: 'CustomAudienceTermsNotAccepted',
  AudienceUnusable: 'AudienceUnusable',
  AudienceBusy: 'AudienceBusy',
  UnknownSegment: 'UnknownSegment',
  SegmentTooLarge: 'SegmentTooLarge',
  RequestRejected: 'FacebookRequestRejected',
  AppCredentialsInvalid: 'FacebookAppCredentialsInvalid',
  /**
   * PostgreSQL refused a query for good (SQLSTATE class 22, a data exception, or 42, a syntax error or access rule
   * violation: a column renamed under us, a segment condition's cast a value fails, a missing grant).
   */
  QueryRejected: 'DatabaseQueryRejected',
} as const;
export type ExportFailureType = (typeof ExportFailureType)[keyof typeof ExportFailureType];
export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(ExportFailureType);

/** The other failure types our workflows and activities raise: retried ones, and those of workflow code itself. */
export const FailureType = {
  /** The run was stopped at once, in-flight requests aborted (consent withdrawn, destination deleted). */
  Aborted: 'Aborted',
  /** Facebook refused to start a replace session. */
  ReplaceRefused: 'ReplaceRefused',
  /** A benign wait for the ad account's rate-limit block to end: retried when it ends. */
  AdAccountBlocked: 'AdAccountBlocked',
  /** The webhook receiver refused an event for good. */
  WebhookRejected: 'WebhookRejected',
  /** Temporal closed the run without the workflow finalising it; the record was finished by the reconciler. */
  WorkflowTerminated: 'WorkflowTerminated',
  WorkflowTimedOut: 'WorkflowTimedOut',
  WorkflowNotFound: 'WorkflowNotFound',
  /** A failure that carried no type of its own. */
  Unknown: 'Error',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/**
 * Attempts at each of validate, freeze, plan and finalise: with the back-off below (2 s doubling to 1 minute) about
 * 15 minutes of retrying, enough for a database restart or a short Facebook outage. Then the run fails and says why.
 */
export const STEP_MAX_ATTEMPTS = 20;

/** How long an export (all its runs through continue-as-new) may take before Temporal stops it (`EXPORT_TIMEOUT_MS`). */
export const DEFAULT_EXPORT_TIMEOUT_MS = 24 * 3_600_000;

/** Durations tests shrink; production uses the defaults. */
export interface ExportTimings {
  /** Heartbeat timeout of page activities: how soon a crashed worker's page is retried. @default '60s' */
  pageHeartbeatTimeout?: string;
  /**
   * Heartbeat timeout of the other steps (validate, freeze, plan, finalise): how soon a crashed worker's step is
   * retried. Generous, as embedded PostgreSQL holds the event loop while a large freeze runs. @default '2 minutes'
   */
  stepHeartbeatTimeout?: string;
  /** First wait before a step's next attempt; it doubles up to `stepRetryMaximumInterval`. @default '2s' */
  stepRetryInitialInterval?: string;
  /** Longest wait between a step's attempts. @default '1 minute' */
  stepRetryMaximumInterval?: string;
  /** Rotate an upload session this long after its first batch (Meta closes it at 90 minutes). @default 75 min */
  sessionRotateAfterMs?: number;
  /** Delays after finalising at which the audience's health is recorded again. @default [1 h, 24 h] */
  healthCheckDelaysMs?: number[];
}

/**
 * Where a continued run picks up: between the removes and the adds, when the history has grown (design,
 * "Temporal"); never while an upload session is open.
 */
export interface ExportResume {
  plan: ExportPlan;
  uploads: UploadPlan;
  pageSize: number;
  progress: ExportProgress;
  sessionIds: number[];
  /** Workflow time until which the ad account is blocked. */
  blockedUntil: number;
}

export interface ExportInput {
  destinationId: string;
  trigger: ExportTrigger;
  /** Our export_runs id; the workflow makes one when absent. */
  runId?: string;
  /** Maximum pages in flight. @default 4 */
  pageConcurrency?: number;
  timings?: ExportTimings;
  /** Set only by continue-as-new. */
  resume?: ExportResume;
}

/** What validation found: enough to run and to describe the run, nothing personal. */
export interface ExportPlan {
  runId: string;
  destinationId: string;
  destinationName: string;
  adAccountId: string;
  audienceId: string;
  audienceName: string;
  segments: string[];
  mode: ExportMode;
  /** Whether the audience had members before this run (a first mirror run on such an audience is a replace). */
  audienceHasMembers: boolean;
}

export interface FrozenRun {
  rowCount: number;
  pageCount: number;
  pageSize: number;
}

export type UploadOperation = 'add' | 'remove' | 'replace';

/** Where a page's rows come from: the frozen segment, or the upload plan's adds or removes (diffs in SQL). */
export type PageTable = 'frozen' | 'adds' | 'removes';

/** What the run will send, decided after freezing (design "Modes"). */
export interface UploadPlan {
  /** The mode the run uses: a first mirror run on an audience that already has members is a replace. */
  mode: ExportMode;
  adds: { table: 'frozen' | 'adds'; rows: number; pages: number };
  removes: { rows: number; pages: number };
  /** Members dropped while planning, by reason (those without per-profile consent). */
  dropped: DropCounts;
}

export interface PageInput {
  runId: string;
  page: number;
  pageSize: number;
  table: PageTable;
  operation: UploadOperation;
  sessionId: number;
  batchSeq: number;
  lastBatch: boolean;
  estimatedTotal: number;
}

export type PageResult =
  | {
      status: 'sent';
      rows: number;
      sent: number;
      dropped: DropCounts;
      /** Meta's cumulative count of rows received in the session. */
      received: number;
      invalid: number;
    }
  /** Every row of the page was dropped: nothing was sent. */
  | { status: 'empty'; rows: number; dropped: DropCounts }
  /** Meta (or the ad account's shared block) asked us to wait; nothing was sent and no retry was spent. */
  | { status: 'throttled'; waitMs: number; reason: string }
  /** The replace session is over (90-minute timeout or already finished): send the rest as adds. */
  | { status: 'replace_closed'; reason: string };

export type ExportPhase =
  'validating' | 'freezing' | 'planning' | 'removing' | 'uploading' | 'waiting' | 'finalising' | 'done';

export interface ExportProgress {
  runId?: string;
  phase: ExportPhase;
  /** The mode in use once planned. */
  mode?: ExportMode;
  pagesTotal: number;
  pagesDone: number;
  rowsTotal: number;
  rowsSent: number;
  rowsRemoved: number;
  rowsDropped: number;
  droppedByReason: DropCounts;
  received: number;
  invalid: number;
  waitedMs: number;
  /** Throttled answers (or blocks found) that made the run wait. */
  throttleWaits: number;
  waitReason?: string;
  waitingUntil?: string;
  cancelRequested: boolean;
}

/** The counters of a run that has done nothing yet, in `phase`. */
export function zeroProgress(phase: ExportPhase): ExportProgress {
  return {
    phase,
    pagesTotal: 0,
    pagesDone: 0,
    rowsTotal: 0,
    rowsSent: 0,
    rowsRemoved: 0,
    rowsDropped: 0,
    droppedByReason: {},
    received: 0,
    invalid: 0,
    waitedMs: 0,
    throttleWaits: 0,
    cancelRequested: false,
  };
}

export interface AudienceHealth {
  lowerBound?: number;
  upperBound?: number;
  operationStatus?: number;
  deliveryStatus?: number;
  matched?: number;
}

export interface FinalizeInput {
  runId: string;
  status: 'completed' | 'cancelled' | 'failed' | 'partial';
  progress: ExportProgress;
  sessionIds: number[];
  error?: { type: string; message: string };
  /** Read the audience's size and statuses from Facebook; false once aborted (no call may follow an abort). */
  readAudience: boolean;
}

export interface ExportResult {
  runId: string;
  status: FinalizeInput['status'];
  audienceId: string;
  progress: ExportProgress;
  health?: AudienceHealth;
}

/** One export per audience at a time: the id names the audience (design, "Temporal"). */
export function exportWorkflowId(adAccountId: string, audienceKey: string): string {
  return `export:${adAccountId}:${audienceKey}`;
}
