import { log } from '@temporalio/activity';
import type { Audience, GraphClient } from '../facebook/index.js';
import { NotFoundError, type ExportRun, type Store } from '../store/index.js';
import type { AudienceHealth, FinalizeInput } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';

/**
 * Records how the run ended with the audience's size bounds, statuses and the sessions' matched counts, and
 * drops the run's staging data. Facebook reads are best effort: a run that failed for want of a token still
 * gets its record.
 */
export async function finalizeExport(deps: ActivityDeps, input: FinalizeInput): Promise<AudienceHealth | undefined> {
  const { store, source } = deps;
  const run = await store.exportRuns.get(input.runId).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined; // validation failed before the run was recorded
    throw err;
  });
  if (run?.audienceId && input.status === 'completed') {
    // Every page succeeded: possibly-sent rows are now sent, removed rows go.
    await store.snapshots.commitRun(run.audienceId, run.id);
    await advanceWatermark(deps, run);
  }
  if (run) await store.snapshots.forgetRecordedPages(run.id);
  await source.dropFrozen(input.runId);
  if (!run) return undefined;

  const health =
    input.status === 'failed' || !input.readAudience ? undefined : await readHealth(deps, run, input.sessionIds);
  await store.exportRuns.finish(run.id, {
    status: input.status,
    phase: 'done',
    throttleWaits: input.progress.throttleWaits,
    waitedMs: input.progress.waitedMs,
    ...(health?.lowerBound !== undefined ? { audienceLowerBound: health.lowerBound } : {}),
    ...(health?.upperBound !== undefined ? { audienceUpperBound: health.upperBound } : {}),
    ...(health?.operationStatus !== undefined ? { operationStatusCode: health.operationStatus } : {}),
    ...(health?.deliveryStatus !== undefined ? { deliveryStatusCode: health.deliveryStatus } : {}),
    ...(health?.matched !== undefined ? { matched: health.matched } : {}),
    error: input.error ?? null,
  });
  log.info('export finalised', { runId: run.id, status: input.status, sent: input.progress.rowsSent });
  return health;
}

/**
 * A completed run examined every profile changed up to the watermark its freeze saw, so the next refresh starts
 * there. A failed run leaves it, and the next run examines its changes again.
 */
async function advanceWatermark(deps: ActivityDeps, run: ExportRun): Promise<void> {
  const meta = await deps.store.snapshots.meta(run.audienceId!);
  if (!meta) return;
  const changeColumn = deps.source.changeTracking ?? null;
  const changeWatermark = changeColumn === null ? null : run.changeWatermark;
  if (meta.changeColumn === changeColumn && meta.changeWatermark === changeWatermark) return;
  await deps.store.snapshots
    .putMeta(
      run.audienceId!,
      { basis: meta.basis, changeColumn, changeWatermark },
      { destinationId: run.destinationId },
    )
    .catch((err: unknown) => {
      // The destination is being deleted, its snapshot with it: there is no watermark left to advance.
      if (!(err instanceof NotFoundError)) throw err;
    });
}

/** Re-reads the audience's health some time after the export (Meta applies changes over up to 24 hours). */
export async function recordAudienceHealth(deps: ActivityDeps, input: { runId: string; afterMs: number }) {
  const run = await deps.store.exportRuns.get(input.runId);
  const health = await readHealth(deps, run, []);
  if (!health) return;
  await deps.store.exportRuns.appendHealthCheck(run.id, {
    at: new Date().toISOString(),
    lowerBound: health.lowerBound ?? null,
    upperBound: health.upperBound ?? null,
    operationStatus: health.operationStatus ?? null,
    deliveryStatus: health.deliveryStatus ?? null,
    matched: health.matched ?? null,
  });
}

async function readHealth(
  deps: ActivityDeps,
  run: ExportRun,
  sessionIds: number[],
): Promise<AudienceHealth | undefined> {
  if (!run.audienceId) return undefined;
  // Reading during a rate-limit block would extend it for every export to this ad account.
  if (await deps.store.adAccountBlocks.get(run.adAccountId)) return undefined;
  const token = await tokenOf(deps.store, run.destinationId);
  if (!token) return undefined;
  let audience: Audience;
  try {
    audience = await deps.graph.getAudience(run.audienceId, { token });
  } catch (err) {
    log.warn('could not read audience health', { runId: run.id, error: (err as Error).message });
    return undefined;
  }
  // Size and status stand on their own: the sessions' figures are extra, and Meta may not report them.
  const matched = await matchedCount(deps.graph, run.audienceId, sessionIds, token).catch((err: unknown) => {
    log.warn('could not read the upload sessions', { runId: run.id, error: (err as Error).message });
    return undefined;
  });
  return {
    lowerBound: audience.sizeLowerBound,
    upperBound: audience.sizeUpperBound,
    operationStatus: audience.operationStatus?.code,
    deliveryStatus: audience.deliveryStatus?.code,
    matched,
  };
}

async function tokenOf(store: Store, destinationId: string): Promise<string | undefined> {
  try {
    return await store.credentials.getToken(destinationId);
  } catch {
    return undefined; // destination deleted or disconnected: nothing to read health with
  }
}

/** The sessions' matched counts where Meta reports them. */
async function matchedCount(graph: GraphClient, audienceId: string, sessionIds: number[], token: string) {
  let matched: number | undefined;
  for (const id of sessionIds) {
    const [status] = await graph.getSessions(audienceId, id, { token });
    if (status?.numMatched !== undefined) matched = (matched ?? 0) + status.numMatched;
  }
  return matched;
}
