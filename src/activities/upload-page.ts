import { cancellationSignal, heartbeat, log } from '@temporalio/activity';
import {
  buildRows,
  CANONICAL_SCHEMA,
  type BuiltRows,
  type CanonicalRow,
  type Cell,
  type DroppedProfile,
  DropReason,
} from '../domain/canonical-row.js';
import { snapshotBasis } from '../domain/snapshot-basis.js';
import {
  GraphApiError,
  GraphErrorKind,
  ReplaceAction,
  ReplaceSessionError,
  ThrottledError,
  type UsersInput,
} from '../facebook/index.js';
import type { ExportRun, SnapshotKey, SnapshotRow } from '../store/index.js';
import type { DropCounts } from '../domain/export-terms.js';
import type { PageInput, PageResult } from '../workflows/contracts.js';
import type { ActivityDeps } from './deps.js';
import { classifyFailure, destinationGone } from './failures.js';
import { runExportConfig } from './run-config.js';

/**
 * Heartbeats while a page is in flight, so a crashed worker's page is retried quickly and an abort (consent
 * withdrawn) reaches the request within about a second (the SDK throttles heartbeats to its own interval).
 */
const HEARTBEAT_EVERY_MS = 1_000;

interface PreparedPage {
  rows: number;
  data: readonly (readonly Cell[])[];
  dropped: DropCounts;
  /** The snapshot rows a remove page carries, deleted once Meta accepts it; none for an add page (confirmed whole). */
  keys: SnapshotKey[];
  /** An add (or replace) page's rows, for taking back those of people erased while it was in flight. */
  added?: AddedRows;
}

/** What an add page posts and left out as erased, and when it checked: see {@link withdrawErased}. */
interface AddedRows {
  /** The rows posted (`data`), with their snapshot keys. */
  posted: readonly SnapshotRow[];
  /** The suppression list's size the rows were first checked at. */
  suppressionsChecked: number;
  /** Rows of the page left out as erased: an earlier attempt at the page may have posted them. */
  erased: readonly SnapshotRow[];
}

/**
 * Reads one page (of the frozen segment, or of the run's planned adds or removes), normalises and hashes it,
 * records it in the audience snapshot (possibly sent, or removing) and posts it in the run's session. Rows and
 * tokens are loaded here by id and leave the worker only for Facebook. A throttled call (or an ad account
 * already blocked by another export) returns the wait instead of failing, so no retry is spent on it.
 */
export async function uploadPage(deps: ActivityDeps, input: PageInput): Promise<PageResult> {
  const { store, graph } = deps;
  const run = await store.exportRuns.get(input.runId);
  const blocked = await store.adAccountBlocks.get(run.adAccountId);
  if (blocked) {
    return { status: 'throttled', waitMs: blocked.blockedUntil.getTime() - Date.now(), reason: blocked.reason };
  }
  const removing = input.operation === 'remove';
  const page = await (removing ? prepareRemoves(deps, run, input) : prepareAdds(deps, run, input)).catch(
    (err: unknown) => {
      throw destinationGone(err, run.destinationId) ?? err;
    },
  );
  const kind = removing ? 'remove' : 'add';
  // Read before this attempt marks the page in flight: whether an earlier one may have posted the erased rows.
  const postedBefore = !!page.added?.erased.length && (await store.exportRuns.pagePosted(run.id, kind, input.page));
  if (page.data.length === 0) {
    if (postedBefore) {
      await withdrawErased(deps, run, input, page.added!, true).catch(async (err: unknown) => {
        throw await classifyFailure(err, store, run.destinationId, run.audienceId ?? undefined);
      });
    }
    await store.exportRuns.recordPage(run.id, input.page, { kind, sent: 0, dropped: page.dropped });
    return { status: 'empty', rows: page.rows, dropped: page.dropped };
  }

  const token = await store.credentials.getToken(run.destinationId);
  const request: UsersInput = {
    audienceId: run.audienceId!,
    payload: { schema: [...CANONICAL_SCHEMA], data: page.data },
    session: {
      sessionId: input.sessionId,
      batchSeq: input.batchSeq,
      lastBatch: input.lastBatch,
      estimatedTotal: input.estimatedTotal,
    },
  };
  const call = { add: graph.addUsers, remove: graph.removeUsers, replace: graph.replaceUsers }[input.operation];
  const beat = setInterval(() => heartbeat({ page: input.page }), HEARTBEAT_EVERY_MS);
  // In flight until Meta answers: a run that stops now reports these rows as possibly applied, not as never sent.
  await store.exportRuns.markInFlight(run.id, kind, input.page, page.data.length);
  let accepted = false;
  try {
    heartbeat({ page: input.page });
    const started = performance.now();
    const result = await call(request, { token, signal: cancellationSignal() });
    const durationMs = Math.round(performance.now() - started);
    accepted = true;
    const sent = page.data.length;
    let withdrawn = 0;
    if (removing) await store.snapshots.deleteRows(run.audienceId!, page.keys);
    else {
      await store.snapshots.confirmPage(run.audienceId!, run.id, input.page, { destinationId: run.destinationId });
      // Before the page is recorded done: should this fail, the page stays posted for the attempt that follows.
      withdrawn = await withdrawErased(deps, run, input, page.added!, postedBefore, token);
    }
    await store.exportRuns.recordPage(run.id, input.page, {
      kind,
      sent: removing ? 0 : sent,
      removed: removing ? sent : withdrawn,
      received: sent,
      invalid: result.numInvalidEntries,
      dropped: page.dropped,
      durationMs,
    });
    return {
      status: 'sent',
      rows: page.rows,
      sent,
      dropped: page.dropped,
      received: result.numReceived,
      invalid: result.numInvalidEntries,
    };
  } catch (err) {
    // Meta answered with a refusal, so nothing of the page was applied; a transient error, a timeout or an abort
    // leaves its outcome unknown (and a retry settles it). A refused withdrawal after the page was accepted leaves
    // the page posted, so the next attempt withdraws again.
    if (!accepted && err instanceof GraphApiError && err.kind !== GraphErrorKind.transient) {
      await store.exportRuns.markInFlight(run.id, kind, input.page, 0);
    }
    if (err instanceof ThrottledError) {
      // Every export to this ad account waits until the block passes: calls during a block extend it.
      const until = new Date(Date.now() + err.retryAfterMs);
      const reason = `Facebook rate limit on ${run.adAccountId} (code ${err.code ?? '?'})`;
      await store.adAccountBlocks.block(run.adAccountId, until, reason);
      return { status: 'throttled', waitMs: err.retryAfterMs, reason };
    }
    if (err instanceof ReplaceSessionError && err.action === ReplaceAction.switchToAdds) {
      return { status: 'replace_closed', reason: err.message };
    }
    throw await classifyFailure(err, store, run.destinationId, run.audienceId ?? undefined);
  } finally {
    clearInterval(beat);
  }
}

/**
 * Members to add: built into canonical rows and recorded before they are posted, the rows as possibly sent and
 * the members they drop as dropped (so a refresh does not examine them again until they change).
 */
async function prepareAdds(deps: ActivityDeps, run: ExportRun, input: PageInput): Promise<PreparedPage> {
  const { store, source } = deps;
  const members = await source.readPage({ runId: run.id, page: input.page, pageSize: input.pageSize });
  const config = await runExportConfig(store, run);
  const options = {
    keyIdentifier: config.keyIdentifier,
    defaultCountry: config.defaultCountry ?? undefined,
    consentAttribute: config.consentAttribute ?? undefined,
    limitedDataUse: config.limitedDataUse,
  };
  // The pool gives exactly buildRows' result, on a thread when the page is large enough to pay for it.
  const all = deps.rowBuilder
    ? await deps.rowBuilder.build({ profiles: members, mapping: config.mapping, options })
    : buildRows(members, config.mapping, options);
  const { built, suppressionsChecked } = await withoutErased(store, all);
  const fingerprints = new Map(members.map((m) => [m.key, m.fingerprint]));
  const snapshotRow = (r: CanonicalRow): SnapshotRow => ({
    profileKey: r.profileKey,
    fingerprint: fingerprints.get(r.profileKey)!,
    cells: r.cells,
  });
  const audienceId = run.audienceId!;
  // Every write holds the destination: once its deletion begins, the page records nothing (it fails instead).
  const writer = { destinationId: run.destinationId };
  const startsReplace = input.operation === 'replace' && input.batchSeq === 1;
  let sending = built;
  // One snapshot row per built row, for the snapshot write and, less the rows it finds erased, for a take-back.
  let posted = built.rows.map(snapshotRow);
  // An empty page is not a replace's first batch (the next page becomes it): record nothing before the reset.
  if (built.rows.length > 0 || !startsReplace) {
    // A replace's first batch empties the audience at Meta: our record of it starts over too, under this basis.
    if (startsReplace) await store.snapshots.resetAudience(audienceId, snapshotBasis(config), writer);
    const erasedSince = await store.snapshots.recordPage(
      audienceId,
      run.id,
      input.page,
      {
        sent: posted,
        dropped: built.dropped.map((d) => ({ profileKey: d.profileKey, fingerprint: fingerprints.get(d.profileKey)! })),
      },
      { fresh: isFresh(run), suppressionsChecked, ...writer },
    );
    // People erased while the page was built: recorded as dropped, so not sent either.
    sending = dropErased(built, erasedSince);
    if (sending !== built) posted = posted.filter((r) => !erasedSince.has(r.profileKey));
  }
  const dropped = Object.fromEntries(Object.entries(sending.droppedByReason).filter(([, n]) => n > 0));
  const added: AddedRows = {
    posted,
    suppressionsChecked,
    erased: sending === all ? [] : leftOut(all, sending, snapshotRow),
  };
  return { rows: members.length, data: sending.rows.map((r) => r.cells), dropped, keys: [], added };
}

/**
 * Takes back what an accepted add (or replace) page posted for people erased since its rows were checked: their
 * listing could not stop a page already posted, and the erasure's remove may have reached Meta before the page's
 * add did. The page asks the list's size again (one row, so the common case costs one small query); only if it grew
 * are its rows looked up. Those listed now are removed at Meta with the very cells posted, and their snapshot rows
 * deleted (the erasure deletes the rows it finds the same way), so the snapshot does not claim them. When an earlier
 * attempt posted the page (`postedBefore`), the rows this attempt left out as erased are removed too: that attempt may
 * have added them after the erasure and stopped before withdrawing them. Returns how many rows it removed.
 */
async function withdrawErased(
  deps: ActivityDeps,
  run: ExportRun,
  input: PageInput,
  added: AddedRows,
  postedBefore: boolean,
  token?: string,
): Promise<number> {
  const { store, graph } = deps;
  const since = await store.suppressions.listedSince(added.posted, added.suppressionsChecked);
  const now = added.posted.filter((r) => since.has(r.profileKey));
  const rows = postedBefore ? [...now, ...added.erased] : now;
  if (rows.length === 0) return 0;
  const payload = { schema: [...CANONICAL_SCHEMA], data: rows.map((r) => r.cells) };
  const opts = { token: token ?? (await store.credentials.getToken(run.destinationId)), signal: cancellationSignal() };
  // Outside the page's session. Meta takes no /users remove while a replace runs (reference 4.5): there the call is
  // the erasure's own, which reaches the rows a replace has staged (as it does for every erasure during a replace).
  if (input.operation === 'replace') await graph.removeFromAllAudiences(run.adAccountId, payload, opts);
  else await graph.removeUsers({ audienceId: run.audienceId!, payload }, opts);
  // Rows left out as erased were recorded dropped (or deleted by the erasure): nothing of them to delete.
  await store.snapshots.deleteRows(run.audienceId!, now);
  log.info('rows of people erased while their page was in flight removed again', {
    runId: run.id,
    page: input.page,
    rows: rows.length,
  });
  return rows.length;
}

/** The rows of `all` that `kept` no longer holds, as snapshot rows. */
function leftOut(all: BuiltRows, kept: BuiltRows, snapshotRow: (r: CanonicalRow) => SnapshotRow): SnapshotRow[] {
  const keys = new Set(kept.rows.map((r) => r.profileKey));
  return all.rows.filter((r) => !keys.has(r.profileKey)).map(snapshotRow);
}

/**
 * The built rows less those of people erased on request (the suppression list), which join the dropped as
 * `erased`, with the list's size they were checked at. Nothing is hashed or asked when nobody was ever erased.
 */
async function withoutErased(
  store: ActivityDeps['store'],
  built: BuiltRows,
): Promise<{ built: BuiltRows; suppressionsChecked: number }> {
  const { size, erased } = await store.suppressions.check(built.rows);
  return { built: dropErased(built, erased), suppressionsChecked: size };
}

/** The rows of the profiles `erased` names moved to the dropped, as `erased`. */
function dropErased(built: BuiltRows, erased: ReadonlySet<string>): BuiltRows {
  if (erased.size === 0) return built;
  const rows: CanonicalRow[] = [];
  const dropped: DroppedProfile[] = [...built.dropped];
  for (const row of built.rows) {
    if (erased.has(row.profileKey)) dropped.push({ profileKey: row.profileKey, reason: DropReason.ERASED });
    else rows.push(row);
  }
  const count = built.rows.length - rows.length;
  if (count === 0) return built;
  const erasedCount = built.droppedByReason[DropReason.ERASED] + count;
  return { ...built, rows, dropped, droppedByReason: { ...built.droppedByReason, [DropReason.ERASED]: erasedCount } };
}

/**
 * Whether no row of the run's pages can be in the snapshot already (but for an earlier attempt at the same page):
 * the run froze the whole segment for an audience it exports first (mirror) or replaces.
 */
function isFresh(run: ExportRun): boolean {
  return run.freezeScope === 'segment' && (run.effectiveMode === 'replace' || run.effectiveMode === 'mirror');
}

/** Snapshot rows to remove, with the very cells last sent, marked removing before they are posted. */
async function prepareRemoves(deps: ActivityDeps, run: ExportRun, input: PageInput): Promise<PreparedPage> {
  const { store, source } = deps;
  const rows = await store.uploadPlans.readRemoves(source.stagingTables(run.id).removes, input.page, input.pageSize);
  await store.snapshots.markRemoving(run.audienceId!, run.id, rows);
  return { rows: rows.length, data: rows.map((r) => r.cells), dropped: {}, keys: rows };
}
