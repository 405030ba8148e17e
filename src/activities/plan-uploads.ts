import { log } from '@temporalio/activity';
import { CONSENT_YES_TEXT } from '../domain/consent.js';
import { pageCount } from '../domain/plan-pages.js';
import type { DropCounts } from '../domain/export-terms.js';
import type { UploadPlan } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { runExportConfig } from './run-config.js';

/**
 * Decides what the run sends, by set operations in SQL between the frozen segment and the audience's snapshot:
 * mirror adds who joined or changed and removes who left; add mode adds everyone; either removes members whose
 * per-profile consent is withdrawn. A first mirror run on an audience that already has members (and no snapshot
 * of ours) is a replace. Idempotent.
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

  let mode = config.mode;
  const noSnapshot = mode === 'mirror' && (await store.snapshots.isEmpty(audienceId));
  if (noSnapshot && input.audienceHasMembers) mode = 'replace';
  await store.exportRuns.updateProgress(run.id, { phase: 'planning', effectiveMode: mode });
  // A mirror run on an empty audience adds every member and removes nobody: its pages read the frozen segment
  // itself rather than a copy of it (18.9 s of planning at 10 million members). Pages drop non-consenting members.
  if (mode === 'replace' || noSnapshot) {
    const rows = await source.countFrozen(run.id);
    // The record says what the run does next, as the planned path below does (it said `planning` all upload long).
    await store.exportRuns.updateProgress(run.id, { phase: 'uploading' });
    return { mode, adds: { table: 'frozen', rows, pages: pages(rows) }, removes: { rows: 0, pages: 0 }, dropped: {} };
  }
  const started = Date.now();
  const counts = await store.uploadPlans.build(source.stagingTables(run.id), {
    audienceId,
    mode,
    consentAttribute: config.consentAttribute ?? undefined,
    consentYes: CONSENT_YES_TEXT,
  });
  // Members without consent never reach a page here (the plan leaves them out): count them as dropped now.
  const dropped: DropCounts = counts.withoutConsent > 0 ? { no_consent: counts.withoutConsent } : {};
  await store.exportRuns.recordPage(run.id, -1, { sent: 0, dropped });
  await store.exportRuns.updateProgress(run.id, {
    phase: 'uploading',
    pagesTotal: pages(counts.adds) + pages(counts.removes),
  });
  log.info('uploads planned', {
    runId: run.id,
    mode,
    adds: counts.adds,
    removes: counts.removes,
    ms: Date.now() - started,
  });
  return {
    mode,
    adds: { table: 'adds', rows: counts.adds, pages: pages(counts.adds) },
    removes: { rows: counts.removes, pages: pages(counts.removes) },
    dropped,
  };
}
