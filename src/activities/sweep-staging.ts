import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { timeOfRunId } from '../sources/sql-names.js';
import { currentExecution } from '../temporal/run-execution.js';
import type { ProfileSource } from '../sources/profile-source.js';
import { NotFoundError, type Store } from '../store/index.js';

export interface SweepStagingDeps {
  store: Pick<Store, 'exportRuns'>;
  source: Pick<ProfileSource, 'listFrozen' | 'sweepFrozen'>;
  /** Without a client nothing can be proven dead, so nothing is swept. */
  temporalClient?: Pick<Client, 'workflow'> | undefined;
}

/** Run ids only travel back through Temporal. */
export interface SweepSummary {
  /** Staging tables found before the sweep. */
  found: number;
  /** Run ids whose staging tables were dropped. */
  swept: string[];
}

type Liveness = 'live' | 'dead';

/**
 * A run owns its staging table while its record says `running` and its workflow is running. Doubt counts as
 * live: an unreachable Temporal or an unexpected error never drops a table a page may still read.
 */
async function livenessOf(deps: SweepStagingDeps & { temporalClient: Pick<Client, 'workflow'> }, runId: string) {
  let run;
  try {
    run = await deps.store.exportRuns.get(runId);
  } catch (err) {
    // The record is written before the freeze, so a table without one belongs to no run (an aborted test, a
    // hand-made copy): nothing will ever read it.
    // A preview's table has no record either; its time-ordered id says it is young and still being read.
    if (err instanceof NotFoundError) return isYoung(runId) ? 'live' : 'dead';
    throw err;
  }
  if (run.status !== 'running') return 'dead';
  try {
    if (run.temporalRunId) {
      // Followed through continue-as-new: a continued run's first execution is closed, its pages still read.
      const execution = await currentExecution(deps.temporalClient, run.workflowId, run.temporalRunId);
      return execution?.status === 'RUNNING' ? 'live' : 'dead';
    }
    const d = await deps.temporalClient.workflow.getHandle(run.workflowId).describe();
    return d.status.name === 'RUNNING' ? 'live' : 'dead';
  } catch (err) {
    return err instanceof WorkflowNotFoundError ? 'dead' : 'live';
  }
}

/** Record-less staging tables younger than this may still be in use (a preview reads its table for seconds). */
const RECORDLESS_GRACE_MS = 60 * 60_000;

function isYoung(runId: string): boolean {
  const at = timeOfRunId(runId);
  return at !== undefined && Date.now() - at < RECORDLESS_GRACE_MS;
}

/**
 * Drops staging tables of runs that died without finalising (a worker killed mid-run, a workflow terminated):
 * they hold the mapped raw attributes of a whole segment. Only tables listed before the check are judged, so a
 * run that freezes while the sweep runs is never dropped from under itself.
 */
export async function sweepStagingTables(deps: SweepStagingDeps): Promise<SweepSummary> {
  const found = await deps.source.listFrozen();
  const client = deps.temporalClient;
  if (!client || found.length === 0) return { found: found.length, swept: [] };
  const dead = new Set<string>();
  for (const runId of found) {
    const liveness: Liveness = await livenessOf({ ...deps, temporalClient: client }, runId);
    if (liveness === 'dead') dead.add(runId);
  }
  const swept = await deps.source.sweepFrozen((runId) => !dead.has(runId));
  return { found: found.length, swept };
}
