import { log } from '@temporalio/activity';
import { CONSENT_YES_TEXT } from '../domain/consent.js';
import { pageCount } from '../domain/plan-pages.js';
import type { ExportMode } from '../domain/export-terms.js';
import { ModeReason, snapshotBasis } from '../domain/snapshot-basis.js';
import { stagedTextSql } from '../sources/staging.js';
import type { UploadPlan } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { changedSinceOf, MIXED_BASIS } from './freeze-segment.js';
import type { ExportRun } from '../store/index.js';
import { destinationGone } from './failures.js';
import { runExportConfig } from './run-config.js';

/** Reasons (of freezeSegment) that make a mirror run a replace: its snapshot was made under another basis. */
const REPLACING_REASONS: ReadonlySet<string> = new Set([
  ModeReason.BasisChanged,
  ModeReason.FormatChanged,
  ModeReason.BasisMixed,
]);

/**
 * Decides what the run sends. Its adds are always the frozen rows: the whole segment, or for a mirror refresh the
 * members that may have changed. Removes are set operations in SQL between the frozen rows, the segment and the
 * audience's snapshot: a mirror refresh removes who left or withdrew consent, add mode only the non-consenting. A
 * first mirror run on an audience that already has members (and no snapshot of ours), or whose snapshot was made
 * under another mapping, key identifier, default country, consent attribute or LDU, is a replace. Idempotent.
 */
export async function planUploads(
  deps: ActivityDeps,
  input: { runId: string; audienceHasMembers: boolean },
): Promise<UploadPlan> {
  const { store, source, limits } = deps;
  const run = await store.exportRuns.get(input.runId);
  const config = await runExportConfig(store, run);
  const audienceId = run.audienceId!;
  const pages = (rows: number) => pageCount(rows, limits.pageSize);
  const frozenRows = await source.countFrozen(run.id);
  const basis = snapshotBasis(config);

  let mode: ExportMode = config.mode;
  let reason: string = run.modeReason ?? ModeReason.Configured;
  if (config.mode === 'mirror' && run.freezeScope !== 'changes') {
    if (REPLACING_REASONS.has(reason)) mode = 'replace';
    else if (input.audienceHasMembers) [mode, reason] = ['replace', ModeReason.AudienceHasMembers];
    else reason = ModeReason.FirstExport;
  }
  // A mirror run on an empty audience records its basis now; a replace does so with its first batch.
  if (mode === 'mirror' && run.freezeScope !== 'changes') await putBasis(deps, run, basis);
  if (mode === 'add') {
    const meta = await store.snapshots.meta(audienceId);
    const empty = await store.snapshots.isEmpty(audienceId);
    if (empty || meta?.basis !== basis) await putBasis(deps, run, empty ? basis : MIXED_BASIS);
  }
  await store.exportRuns.updateProgress(run.id, { phase: 'planning', effectiveMode: mode, modeReason: reason });
  const adds = { table: 'frozen' as const, rows: frozenRows, pages: pages(frozenRows) };
  if (mode === 'replace' || (mode === 'mirror' && run.freezeScope !== 'changes')) {
    // The record says what the run does next, as the planned path below does (it said `planning` all upload long).
    await store.exportRuns.updateProgress(run.id, { phase: 'uploading' });
    return { mode, adds, removes: { rows: 0, pages: 0 }, dropped: {} };
  }

  const started = Date.now();
  // A refresh that froze from a watermark checks for leavers only among the keys changed since it (with a log).
  const changedSince = mode === 'mirror' ? changedSinceOf(source, await store.snapshots.meta(audienceId)) : null;
  const changedKeys = changedSince === null ? undefined : source.changedKeysSql(changedSince);
  const counts = await store.uploadPlans.build(source.stagingTables(run.id), {
    audienceId,
    mode,
    ...(mode === 'mirror' ? { member: (key: string) => source.memberSql(config.segments, key, run.id) } : {}),
    ...(changedKeys ? { changedKeys } : {}),
    ...(config.consentAttribute
      ? { consentSql: (alias: string) => stagedTextSql(alias, config.consentAttribute!) }
      : {}),
    consentYes: CONSENT_YES_TEXT,
  });
  await store.exportRuns.updateProgress(run.id, {
    phase: 'uploading',
    pagesTotal: adds.pages + pages(counts.removes),
  });
  log.info('uploads planned', {
    runId: run.id,
    mode,
    adds: adds.rows,
    removes: counts.removes,
    droppedLeft: counts.droppedLeft,
    leaversFrom: changedKeys ? 'changed keys' : 'every snapshot row',
    ms: Date.now() - started,
  });
  return { mode, adds, removes: { rows: counts.removes, pages: pages(counts.removes) }, dropped: {} };
}

/** Records the audience's basis; refused for good once the destination is being deleted (nothing may outlive it). */
async function putBasis(deps: ActivityDeps, run: ExportRun, basis: string): Promise<void> {
  const meta = await deps.store.snapshots.meta(run.audienceId!);
  if (meta?.basis === basis) return;
  await deps.store.snapshots
    .putMeta(
      run.audienceId!,
      { basis, changeColumn: null, changeWatermark: null },
      { destinationId: run.destinationId },
    )
    .catch((err: unknown) => {
      throw destinationGone(err, run.destinationId) ?? err;
    });
}
