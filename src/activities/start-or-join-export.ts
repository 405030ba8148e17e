import { ApplicationFailure } from '@temporalio/common';
import { isReady, type Store } from '../store/index.js';
import { destinationProblem } from '../domain/export-readiness.js';
import { exportTargetOf, startExport, type ExportTarget, type StartedExport } from '../temporal/start-export.js';
import { ExportFailureType } from '../workflows/contracts.js';
import type { ExportTrigger } from '../domain/export-terms.js';
import type { ActivityDeps } from './deps.js';

/** The export's target as the store describes it now; a draft destination cannot export. */
async function loadExportTarget(store: Store, destinationId: string): Promise<ExportTarget> {
  const destination = await store.destinations.get(destinationId);
  if (!isReady(destination)) {
    const problem = destinationProblem({ ...destination, deleted: false })!;
    throw ApplicationFailure.nonRetryable(problem.message, ExportFailureType.DestinationIncomplete);
  }
  return exportTargetOf(destination, await store.exportConfigs.get(destinationId));
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
  const target = await loadExportTarget(deps.store, input.destinationId);
  return startExport(deps.temporalClient, target, {
    taskQueue: deps.taskQueue,
    trigger: input.trigger,
    pageConcurrency: deps.pageConcurrency,
    timeoutMs: deps.exportTimeoutMs,
    timings: deps.exportTimings,
  });
}
