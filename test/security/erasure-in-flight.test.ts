import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAPPING } from '../../src/demo/demo-profiles.js';
import type { Cell } from '../../src/domain/canonical-row.js';
import type { GraphClient, UsersInput } from '../../src/facebook/index.js';
import type { Destination } from '../../src/store/index.js';
import { startExport } from '../../src/temporal/start-export.js';
import type { ExportResult } from '../../src/workflows/contracts.js';
import { openSchemaDb } from '../support/context.js';
import { createDestination, targetOf } from '../support/export-env.js';
import { sandboxCalls } from '../support/run-export.js';
import { auth, startSecurityStack, type SecurityStack } from './stack.js';

const EXTERN_ID = 0;
type HeldCall = 'addUsers' | 'replaceUsers';

interface Hold {
  call: HeldCall;
  /** Meta applies the page, then its answer is lost: the activity fails and is retried. */
  loseAnswer: boolean;
  reached: (input: UsersInput) => void;
  gate: Promise<void>;
}

/**
 * The worker's Graph client, but for one upload call carrying rows that `hold` arms: that call stops before it
 * leaves until released, so its add reaches the sandbox after whatever the test does meanwhile (an erasure). The
 * page's snapshot write committed before the call, as it always does.
 */
function holdingGraph(real: () => GraphClient) {
  let armed: Hold | undefined;
  const held = (call: HeldCall) => async (input: UsersInput, opts: Parameters<GraphClient['addUsers']>[1]) => {
    const h = armed;
    if (h?.call !== call || input.payload.data.length === 0) return real()[call](input, opts);
    armed = undefined;
    h.reached(input);
    await h.gate;
    const result = await real()[call](input, opts);
    if (h.loseAnswer) throw new Error('the connection closed before the answer (test)');
    return result;
  };
  const overridden = { addUsers: held('addUsers'), replaceUsers: held('replaceUsers') };
  const graph = new Proxy({} as GraphClient, {
    get: (_, key) =>
      key in overridden ? overridden[key as HeldCall] : (real() as unknown as Record<PropertyKey, unknown>)[key],
  });
  const hold = (call: HeldCall, loseAnswer = false) => {
    let reached!: (input: UsersInput) => void;
    let release!: () => void;
    const page = new Promise<UsersInput>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    armed = { call, loseAnswer, reached, gate };
    return { page, release };
  };
  return { graph, hold };
}

/**
 * The last erasure window on the upload path (#24): a page whose snapshot write committed before an erasure's listing
 * (so the erasure found and removed its rows) but whose add reached Meta after the erasure's remove. The page is held
 * in flight in the worker's Graph client while the person is erased through the API, then let go; after the run the
 * person is neither in the sandbox audience nor sent in the snapshot, and everyone else on the page is.
 */
describe('erasure while an upload page is in flight', () => {
  let s: SecurityStack;
  const holding = holdingGraph(() => s.env.graph);

  beforeAll(async () => {
    s = await startSecurityStack('sec_erase_flight', {
      profiles: 60,
      pageSize: 20,
      // Its own schema: the people it erases would be left out of other test files' exports.
      db: await openSchemaDb('sec_erase_flight'),
      overrides: { graph: holding.graph },
    });
  });
  afterAll(async () => {
    await s?.close();
  });

  const mapping = { ...DEMO_MAPPING, EXTERN_ID: { attribute: 'key' } };
  async function members(audienceId: string): Promise<unknown[][]> {
    const res = await fetch(`${s.env.sandbox.url}/__sandbox/audiences/${audienceId}/members?limit=10000`);
    return ((await res.json()) as { members: unknown[][] }).members;
  }
  /** The audience's snapshot rows that are (or may be) at Meta, by profile key, with their state as readers see it. */
  async function snapshotStates(audienceId: string): Promise<Map<string, string>> {
    const rows = await s.env.db.query<{ profile_key: string; state: string }>(
      `SELECT a.profile_key, CASE WHEN a.state = 'possibly_sent' AND (a.run_id, a.page) IN
         (SELECT run_id, page FROM audience_snapshot_pages) THEN 'sent' ELSE a.state END AS state
       FROM audience_snapshots a WHERE a.audience_id = $1 AND a.state <> 'dropped'`,
      [audienceId],
    );
    return new Map(rows.map((r) => [r.profile_key, r.state]));
  }

  /**
   * Exports `destination` with its first `call` held; erases the first person on that page meanwhile; lets it go.
   * Returns the run's result, the erased key and the held page's rows.
   */
  async function exportErasingInFlight(destination: Destination, call: HeldCall, loseAnswer = false) {
    const held = holding.hold(call, loseAnswer);
    const mode = call === 'replaceUsers' ? 'replace' : 'mirror';
    const started = await startExport(s.temporal.client, targetOf(destination, ['all'], mode), {
      taskQueue: s.taskQueue,
      trigger: 'manual',
      timings: { healthCheckDelaysMs: [] },
    });
    const page = (await held.page).payload.data;
    const victim = String(page[0]![EXTERN_ID]);
    const { audienceId } = await s.env.store.destinations.get(destination.id);
    // The window: the page's rows are in the snapshot before the listing, so the erasure finds and removes them.
    expect((await snapshotStates(audienceId!)).get(victim)).toBe('possibly_sent');
    const res = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { profileKey: victim },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json<{ snapshotRowsDeleted: number }>().snapshotRowsDeleted).toBeGreaterThanOrEqual(1);
    expect((await snapshotStates(audienceId!)).has(victim)).toBe(false);
    const since = (await sandboxCalls(s.env.sandbox.url)).at(-1)?.seq ?? 0;
    held.release();
    const handle = s.temporal.client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId);
    const result = await handle.result();
    return { result, victim, page, calls: await sandboxCalls(s.env.sandbox.url, since) };
  }

  async function expectErasedAlone(audienceId: string, victim: string, page: readonly (readonly Cell[])[]) {
    const held = await members(audienceId);
    expect(held.filter((m) => m[EXTERN_ID] === victim)).toEqual([]);
    const states = await snapshotStates(audienceId);
    expect(states.has(victim)).toBe(false);
    // Everyone else on the page is at Meta as sent and sent in the snapshot; the audience is what the snapshot says.
    const heldRows = new Set(held.map((m) => JSON.stringify(m)));
    for (const row of page.slice(1)) {
      expect(heldRows.has(JSON.stringify(row))).toBe(true);
      expect(states.get(String(row[EXTERN_ID]))).toBe('sent');
    }
    expect([...states.values()].every((v) => v === 'sent')).toBe(true);
    expect(held.map((m) => String(m[EXTERN_ID])).sort()).toEqual([...states.keys()].sort());
  }

  it('an add page posted after the erasure is taken back at Meta and in the snapshot', async () => {
    const d = await createDestination(s.env, { config: { mode: 'mirror', mapping } });
    const { result, victim, page, calls } = await exportErasingInFlight(d, 'addUsers');
    expect(result.status).toBe('completed');
    await expectErasedAlone(result.audienceId, victim, page);
    // The add was applied after the erasure, then one remove of the person's row, outside the session.
    const removes = calls.filter((c) => c.method === 'DELETE' && c.path.endsWith('/users'));
    expect(removes).toHaveLength(1);
    expect(removes[0]).toMatchObject({ rows: 1 });
    expect(removes[0]!.sessionId).toBeUndefined();
    expect((await s.env.store.exportRuns.get(result.runId)).removed).toBe(1);
  });

  it('a page retried after its answer was lost takes back what the lost attempt added', async () => {
    const d = await createDestination(s.env, { config: { mode: 'mirror', mapping } });
    const { result, victim, page, calls } = await exportErasingInFlight(d, 'addUsers', true);
    expect(result.status).toBe('completed');
    await expectErasedAlone(result.audienceId, victim, page);
    // The page went twice (the retry without the person), and the retry removed the row the first attempt added.
    const posts = calls.filter((c) => c.method === 'POST' && c.path.endsWith('/users'));
    const batches = posts.map((c) => `${c.sessionId}:${c.batchSeq}`);
    expect(batches.length).toBeGreaterThan(new Set(batches).size);
    expect(calls.filter((c) => c.method === 'DELETE' && c.path.endsWith('/users'))).toHaveLength(1);
  });

  it("a replace's batch posted after the erasure: the person is not in the audience once the replace closes", async () => {
    const d = await createDestination(s.env, { config: { mode: 'replace', mapping } });
    const { result, victim, page, calls } = await exportErasingInFlight(d, 'replaceUsers');
    expect(result.status).toBe('completed');
    expect(result.progress.mode).toBe('replace');
    await expectErasedAlone(result.audienceId, victim, page);
    // No /users call while the replace ran: the erasure's own call took the person out of the staged rows.
    expect(calls.filter((c) => c.path.endsWith('/users'))).toEqual([]);
    expect(calls.filter((c) => c.path.endsWith('/usersofanyaudience'))).toHaveLength(1);
  });
});
