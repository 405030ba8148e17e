import { log } from '@temporalio/activity';
import { mappedAttributes } from '../domain/mapping.js';
import { pageCount } from '../domain/plan-pages.js';
import { ModeReason, snapshotBasis } from '../domain/snapshot-basis.js';
import type { ChangeFilter, ProfileSource } from '../sources/profile-source.js';
import {
  settledSql,
  type ExportRun,
  type FrozenExportConfig,
  type FreezeScope,
  type SnapshotMeta,
} from '../store/index.js';
import type { FrozenRun } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { runExportConfig } from './run-config.js';
import { classifyFailure } from './failures.js';

/** The basis add-mode runs leave on a snapshot whose rows they sent under several bases. */
export const MIXED_BASIS = 'mixed';

/**
 * Copies the run's segment members (key and mapped raw attributes) into its staging table, refusing segments
 * above the limit. A mirror refresh — the audience's snapshot was made under this run's mapping — copies only the
 * members whose rows may differ from the snapshot (joined, changed, or never confirmed), so it costs the change;
 * any other run copies the whole segment. Idempotent: a retry finds the table already frozen.
 */
export async function freezeSegment(deps: ActivityDeps, input: { runId: string }): Promise<FrozenRun> {
  const { store, source, limits } = deps;
  const run = await store.exportRuns.get(input.runId);
  const config = await runExportConfig(store, run);
  try {
    const started = Date.now();
    const scope = await freezeScopeOf(deps, run, config);
    // A refresh probes the snapshot by index, which only fresh statistics plan (store/snapshots.ts `analyze`).
    if (scope.changes) await store.snapshots.analyze();
    const frozen = await source.freeze({
      runId: run.id,
      segments: [...config.segments],
      attributes: mappedAttributes(config.mapping, config.consentAttribute ?? undefined),
      maxRows: limits.maxProfiles,
      ...(scope.changes ? { changes: scope.changes } : {}),
    });
    const pages = pageCount(frozen.rowCount, limits.pageSize);
    await store.exportRuns.updateProgress(run.id, {
      phase: 'uploading',
      segmentSize: frozen.segmentSize,
      pagesTotal: pages,
      freezeScope: scope.scope,
      changeWatermark: frozen.changeWatermark,
      ...(scope.reason ? { modeReason: scope.reason } : {}),
    });
    log.info('segment frozen', {
      runId: run.id,
      scope: scope.scope,
      segmentSize: frozen.segmentSize,
      rowCount: frozen.rowCount,
      pages,
      ms: Date.now() - started,
    });
    return { rowCount: frozen.segmentSize, pageCount: pages, pageSize: limits.pageSize };
  } catch (err) {
    throw await classifyFailure(err, store, run.destinationId);
  }
}

/**
 * What to freeze. Only a mirror run whose audience has a snapshot made under this run's basis (mapping, key
 * identifier, ...: domain/snapshot-basis.ts) may freeze just the changes; a snapshot made under another basis
 * makes the run a replace (planUploads), so rows sent under the old mapping leave the audience.
 */
async function freezeScopeOf(
  deps: ActivityDeps,
  run: ExportRun,
  config: FrozenExportConfig,
): Promise<{ scope: FreezeScope; reason?: ModeReason; changes?: ChangeFilter }> {
  const { store, source } = deps;
  const audienceId = run.audienceId!;
  if (config.mode !== 'mirror' || (await store.snapshots.isEmpty(audienceId))) return { scope: 'segment' };
  const meta = await store.snapshots.meta(audienceId);
  if (!meta) return { scope: 'segment', reason: ModeReason.FormatChanged };
  if (meta.basis === MIXED_BASIS) return { scope: 'segment', reason: ModeReason.BasisMixed };
  if (meta.basis !== snapshotBasis(config)) return { scope: 'segment', reason: ModeReason.BasisChanged };
  const changedSince = changedSinceOf(source, meta);
  return { scope: 'changes', reason: ModeReason.Refresh, changes: { ...settledSql(audienceId), changedSince } };
}

/** The watermark a refresh reads changes from: it counts only for the change tracking it was read under. */
export function changedSinceOf(source: ProfileSource, meta: SnapshotMeta | undefined): string | null {
  if (source.changeTracking === undefined || meta?.changeColumn !== source.changeTracking) return null;
  return meta.changeWatermark;
}
