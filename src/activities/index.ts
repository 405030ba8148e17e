/**
 * Temporal activities: thin adapters from the export workflow to domain, facebook, store and sources.
 * Built by a factory so their I/O is injected and tests can swap it.
 */
import type { PageInput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { checkAllTokens } from './check-tokens.js';
import { failingBadSql } from './failures.js';
import { finalizeExport, recordAudienceHealth } from './finalize-export.js';
import { freezeSegment } from './freeze-segment.js';
import { whileHeartbeating } from './keep-alive.js';
import { notify, notifyRunFinished, notifyTokenCheck } from './notify.js';
import { planUploads } from './plan-uploads.js';
import { startOrJoinExport, type StartOrJoinInput } from './start-or-join-export.js';
import { sweepStagingTables } from './sweep-staging.js';
import { reconcileRunningRuns, type ReconcileSummary } from '../temporal/reconcile-runs.js';
import { uploadPage } from './upload-page.js';
import { validateExport, type ValidateExportInput } from './validate-export.js';
import type { FinalizeInput } from '../workflows/contracts.js';
import type { NotificationEvent } from '../notifications/events.js';
import type { TokenCheckSummary } from './check-tokens.js';

export type { ActivityDeps } from './deps.js';

/** An export step: heartbeating, and failing for good on a PostgreSQL error no retry fixes. */
const step = <T>(name: string, work: () => Promise<T>): Promise<T> =>
  whileHeartbeating(() => failingBadSql(name, work));

export function createActivities(deps: ActivityDeps) {
  return {
    validateExport: (input: ValidateExportInput) => step('validation', () => validateExport(deps, input)),
    freezeSegment: (input: { runId: string }) => step('freeze', () => freezeSegment(deps, input)),
    planUploads: (input: { runId: string; audienceHasMembers: boolean }) =>
      step('planning', () => planUploads(deps, input)),
    uploadPage: (input: PageInput) => failingBadSql('upload', () => uploadPage(deps, input)),
    finalizeExport: (input: FinalizeInput) => step('finalising', () => finalizeExport(deps, input)),
    recordAudienceHealth: (input: { runId: string; afterMs: number }) => recordAudienceHealth(deps, input),
    checkAllTokens: () => checkAllTokens({ store: deps.store, graph: deps.graph }),
    sweepStagingTables: () =>
      sweepStagingTables({ store: deps.store, source: deps.source, temporalClient: deps.temporalClient }),
    /** Finishes records of runs Temporal closed while no worker finalised them (terminated, timed out, ...). */
    reconcileExportRuns: (): Promise<ReconcileSummary> => reconcileRunningRuns(deps),
    startOrJoinExport: (input: StartOrJoinInput) => startOrJoinExport(deps, input),
    notify: (event: NotificationEvent) => notify(deps, event),
    notifyRunFinished: (input: { runId: string }) => notifyRunFinished(deps, input),
    notifyTokenCheck: (summary: TokenCheckSummary) => notifyTokenCheck(deps, summary),
  };
}

export type Activities = ReturnType<typeof createActivities>;
