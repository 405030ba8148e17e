import { ApplicationFailure } from '@temporalio/common';
import { isReady, type Store } from '../store/index.js';
import { startExport, type ExportTarget, type StartedExport } from '../temporal/start-export.js';
import { ExportFailureType } from '../workflows/contracts.js';
import type { ExportTrigger } from '../workflows/search-attributes.js';
import type { ActivityDeps } from './deps.js';

/** The export's target as the store describes it now: names for the UI, ids for the search attributes. */
export async function loadExportTarget(
  store: Pick<Store, 'destinations' | 'exportConfigs'>,
  destinationId: string,
): Promise<ExportTarget> {
  const destination = await store.destinations.get(destinationId);
  if (!isReady(destination)) {
    throw ApplicationFailure.nonRetryable(
      `Destination '${destination.displayName}' has no ad account or audience chosen yet: choose them ` +
        `(PATCH /destinations/${destination.id}) before exporting.`,
      ExportFailureType.DestinationIncomplete,
    );
  }
  const config = await store.exportConfigs.get(destinationId);
  return {
    destinationId: destination.id,
    destinationName: destination.displayName,
    adAccountId: destination.adAccountId,
    audienceId: destination.audienceId ?? undefined,
    audienceName: destination.newAudienceName ?? destination.audienceId ?? destination.displayName,
    segments: [...config.segments],
    mode: config.mode,
  };
}

export interface StartOrJoinInput {
  destinationId: string;
  trigger: ExportTrigger;
}

/**
 * Starts the destination's export, or joins the one running for its audience (workflow id per audience,
 * USE_EXISTING). Scheduled exports call this from a small workflow, so a schedule never owns the export's id.
 */
export async function startOrJoinExport(deps: ActivityDeps, input: StartOrJoinInput): Promise<StartedExport> {
  if (!deps.temporalClient || !deps.taskQueue) {
    // A wiring fault of this worker, not of the schedule: no retry will fix it.
    throw ApplicationFailure.nonRetryable(
      'This worker has no Temporal client for starting exports: build its ActivityDeps with temporalClient and taskQueue.',
      'WorkerMisconfigured',
    );
  }
  const target = await loadExportTarget(deps.store, input.destinationId);
  return startExport(deps.temporalClient, target, {
    taskQueue: deps.taskQueue,
    trigger: input.trigger,
    pageConcurrency: deps.pageConcurrency,
    timings: deps.exportTimings,
  });
}
