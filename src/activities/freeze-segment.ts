import { log } from '@temporalio/activity';
import { pageCount } from '../domain/plan-pages.js';
import { mappedAttributes } from '../domain/mapping.js';
import type { FrozenRun } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { runExportConfig } from './run-config.js';
import { classifyFailure } from './failures.js';

/**
 * Copies the run's segment members (key and mapped raw attributes) into its staging table, refusing segments
 * above the limit, and plans the pages. Idempotent: a retry finds the table already frozen.
 */
export async function freezeSegment(deps: ActivityDeps, input: { runId: string }): Promise<FrozenRun> {
  const { store, source, limits } = deps;
  const run = await store.exportRuns.get(input.runId);
  const config = await runExportConfig(store, run);
  try {
    const started = Date.now();
    const { rowCount } = await source.freeze({
      runId: run.id,
      segments: [...config.segments],
      attributes: mappedAttributes(config.mapping, config.consentAttribute ?? undefined),
      maxRows: limits.maxProfiles,
    });
    const pages = pageCount(rowCount, limits.pageSize);
    await store.exportRuns.updateProgress(run.id, { phase: 'uploading', segmentSize: rowCount, pagesTotal: pages });
    log.info('segment frozen', { runId: run.id, rowCount, pages, ms: Date.now() - started });
    return { rowCount, pageCount: pages, pageSize: limits.pageSize };
  } catch (err) {
    throw await classifyFailure(err, store, run.destinationId);
  }
}
