import { cancellationSignal, heartbeat } from '@temporalio/activity';
import { buildRows, CANONICAL_SCHEMA } from '../domain/canonical-row.js';
import { ThrottledError, type UsersInput } from '../facebook/index.js';
import type { PageInput, PageResult } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { classifyFailure } from './failures.js';

/** Heartbeats while a page is in flight, so a crashed worker's page is retried quickly. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Reads one frozen page, normalises and hashes it, and posts it in the run's session. Rows and tokens are
 * loaded here by id and never leave the worker except to Facebook. A throttled call (or an ad account already
 * blocked by another export) returns the wait instead of failing, so no retry is spent on it.
 */
export async function uploadPage(deps: ActivityDeps, input: PageInput): Promise<PageResult> {
  const { store, source, graph } = deps;
  const run = await store.exportRuns.get(input.runId);
  const blocked = await store.adAccountBlocks.get(run.adAccountId);
  if (blocked) {
    return { status: 'throttled', waitMs: blocked.blockedUntil.getTime() - Date.now(), reason: blocked.reason };
  }

  const config = await store.exportConfigs.get(run.destinationId);
  const frozen = await source.readPage({ runId: run.id, page: input.page, pageSize: input.pageSize });
  const built = buildRows(frozen, config.mapping, {
    keyIdentifier: config.keyIdentifier,
    defaultCountry: config.defaultCountry ?? undefined,
    consentAttribute: config.consentAttribute ?? undefined,
    limitedDataUse: config.limitedDataUse,
  });
  const dropped = nonZero(built.droppedByReason);
  if (built.rows.length === 0) {
    await store.exportRuns.recordPage(run.id, input.page, { sent: 0, dropped });
    return { status: 'empty', rows: frozen.length, dropped };
  }

  const token = await store.credentials.getToken(run.destinationId);
  const request: UsersInput = {
    audienceId: run.audienceId!,
    payload: { schema: [...CANONICAL_SCHEMA], data: built.rows.map((r) => r.cells) },
    session: {
      sessionId: input.sessionId,
      batchSeq: input.batchSeq,
      lastBatch: input.lastBatch,
      estimatedTotal: input.estimatedTotal,
    },
  };
  const beat = setInterval(() => heartbeat({ page: input.page }), HEARTBEAT_EVERY_MS);
  try {
    heartbeat({ page: input.page });
    const call =
      input.operation === 'remove'
        ? graph.removeUsers
        : input.operation === 'replace'
          ? graph.replaceUsers
          : graph.addUsers;
    const result = await call(request, { token, signal: cancellationSignal() });
    await store.exportRuns.recordPage(run.id, input.page, {
      sent: built.rows.length,
      received: built.rows.length,
      invalid: result.numInvalidEntries,
      dropped,
    });
    return {
      status: 'sent',
      rows: frozen.length,
      sent: built.rows.length,
      dropped,
      received: result.numReceived,
      invalid: result.numInvalidEntries,
    };
  } catch (err) {
    if (err instanceof ThrottledError) {
      // Every export to this ad account waits until the block passes: calls during a block extend it.
      const until = new Date(Date.now() + err.retryAfterMs);
      const reason = `Facebook rate limit on ${run.adAccountId} (code ${err.code ?? '?'})`;
      await store.adAccountBlocks.block(run.adAccountId, until, reason);
      return { status: 'throttled', waitMs: err.retryAfterMs, reason };
    }
    throw await classifyFailure(err, store, run.destinationId);
  } finally {
    clearInterval(beat);
  }
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}
