import { ScheduleNotFoundError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepStagingTables } from '../../src/activities/sweep-staging.js';
import { hashCell, normalize } from '../../src/domain/normalize.js';
import { createProfileSource } from '../../src/sources/profile-source.js';
import { decodeCells } from '../../src/store/snapshot-codec.js';
import { scheduleIdOf } from '../../src/api/services/temporal-control.js';
import { startExport } from '../../src/temporal/start-export.js';
import { createDestination, targetOf } from '../support/export-env.js';
import { openSchemaDb } from '../support/context.js';
import { runExport } from '../support/run-export.js';
import { auth, startSecurityStack, type SecurityStack } from './stack.js';

const EMAIL = 1;
const PHONE = 2;

interface Profile {
  key: string;
  email: string | null;
  phone: string | null;
  country: string | null;
}

describe('data lifecycle: erasure, destination deletion, staging sweep', () => {
  let s: SecurityStack;

  beforeAll(async () => {
    // A schema of its own: the people it erases are left out of every later export of its database.
    s = await startSecurityStack('sec_life', { profiles: 300, db: await openSchemaDb('sec_life') });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** The sandbox audience's rows (hashed cells as hex). */
  async function members(audienceId: string): Promise<unknown[][]> {
    const res = await fetch(`${s.env.sandbox.url}/__sandbox/audiences/${audienceId}/members?limit=10000`);
    return ((await res.json()) as { members: unknown[][] }).members;
  }
  async function snapshotCells(audienceId: string): Promise<{ key: string; cells: unknown[] }[]> {
    const rows = await s.env.db.query<{ profile_key: string; cells: Uint8Array }>(
      "SELECT profile_key, cells FROM audience_snapshots WHERE audience_id = $1 AND state <> 'dropped'",
      [audienceId],
    );
    return rows.map((r) => ({ key: r.profile_key, cells: decodeCells(r.cells) }));
  }

  it('an erasure request removes the person from every audience of the account and from our snapshots', async () => {
    const a = await createDestination(s.env, { config: { mode: 'mirror' } });
    const b = await createDestination(s.env, { config: { mode: 'mirror' } });
    const ra = (await runExport(s.temporal.client, s.taskQueue, a, ['all'], 'mirror')).result;
    const rb = (await runExport(s.temporal.client, s.taskQueue, b, ['all'], 'mirror')).result;
    expect([ra.status, rb.status]).toEqual(['completed', 'completed']);

    const profiles = await s.env.db.query<Profile>(
      `SELECT key, email, phone, country FROM ${s.env.tables.profilesTable}`,
    );
    const hashOf = (key: 'EMAIL' | 'PHONE', v: string | null, country: string | null) =>
      hashCell(key, normalize(key, v, { ...(country ? { country } : {}), defaultCountry: 'US' }));
    const sent = new Set((await snapshotCells(ra.audienceId)).map((r) => r.cells[EMAIL]));
    const byEmail = profiles.find((p) => sent.has(hashOf('EMAIL', p.email, p.country)) && p.email);
    expect(byEmail).toBeDefined();
    const emailHash = hashOf('EMAIL', byEmail!.email, byEmail!.country);
    const countOf = async (audienceId: string) => {
      const rows = await members(audienceId);
      return { all: rows.length, person: rows.filter((m) => m[EMAIL] === emailHash).length };
    };
    const before = { a: await countOf(ra.audienceId), b: await countOf(rb.audienceId) };
    expect(before.a.person).toBeGreaterThan(0);

    // As an operator would type it: the service normalises before hashing.
    const typed = `  ${byEmail!.email!.toUpperCase()} `;
    const res = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { destinationId: a.id, email: typed },
    });
    expect(res.statusCode).toBe(202);
    expect(res.body.toLowerCase()).not.toContain(byEmail!.email!.toLowerCase());
    expect(res.body).not.toContain(emailHash);
    const body = res.json<Record<string, number>>();
    // Both destinations' audiences are on the one sandbox ad account: the person leaves both.
    expect(body.audiencesSearched).toBeGreaterThanOrEqual(2);
    expect(body.snapshotRowsMatched).toBeGreaterThanOrEqual(2);
    expect(body.snapshotRowsDeleted).toBe(body.snapshotRowsMatched);
    expect(body.rowsSent).toBe(body.snapshotRowsMatched! + 1);

    for (const audienceId of [ra.audienceId, rb.audienceId]) {
      expect((await members(audienceId)).filter((m) => m[EMAIL] === emailHash)).toEqual([]);
      expect((await snapshotCells(audienceId)).filter((r) => r.cells[EMAIL] === emailHash)).toEqual([]);
    }
    // Exactly the rows holding the address went (the demo data shares some addresses): everyone else stays.
    expect((await members(ra.audienceId)).length).toBe(before.a.all - before.a.person);
    expect((await members(rb.audienceId)).length).toBe(before.b.all - before.b.person);

    // By phone, through the ad account, with the country the number needs.
    const byPhone = profiles.find(
      (p) =>
        p.key !== byEmail!.key &&
        p.phone &&
        sent.has(hashOf('EMAIL', p.email, p.country)) &&
        hashOf('PHONE', p.phone, p.country),
    );
    expect(byPhone).toBeDefined();
    const phoneHash = hashOf('PHONE', byPhone!.phone, byPhone!.country);
    expect((await members(ra.audienceId)).some((m) => m[PHONE] === phoneHash)).toBe(true);
    const byPhoneRes = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: {
        adAccountId: a.adAccountId,
        phone: byPhone!.phone,
        ...(byPhone!.country ? { country: byPhone!.country } : { country: 'US' }),
      },
    });
    expect(byPhoneRes.statusCode).toBe(202);
    expect(byPhoneRes.body).not.toContain(byPhone!.phone!);
    expect(byPhoneRes.json<Record<string, number>>().snapshotRowsDeleted).toBeGreaterThanOrEqual(2);
    for (const audienceId of [ra.audienceId, rb.audienceId]) {
      expect((await members(audienceId)).filter((m) => m[PHONE] === phoneHash)).toEqual([]);
      expect((await snapshotCells(audienceId)).filter((r) => r.cells[PHONE] === phoneHash)).toEqual([]);
    }

    // Someone we never sent: Meta still gets the identifier row; nothing of ours matched.
    const stranger = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { adAccountId: a.adAccountId, email: 'never.sent@example.org' },
    });
    expect(stranger.statusCode).toBe(202);
    expect(stranger.json()).toMatchObject({ snapshotRowsMatched: 0, rowsSent: 1, snapshotRowsDeleted: 0 });

    // Unusable identifiers are refused by field, without echoing the value.
    const bad = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { destinationId: a.id, email: 'not-an-address<script>' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.json()).toMatchObject({ errors: [{ field: 'body.email' }] });
    expect(bad.body).not.toContain('not-an-address');
    const neither = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { destinationId: a.id },
    });
    expect(neither.statusCode).toBe(400);
    const noToken = await s.app.inject({
      method: 'POST',
      url: '/erasure-requests',
      headers: auth,
      payload: { adAccountId: 'act_999999999', email: 'a@example.org' },
    });
    expect(noToken.statusCode).toBe(409);
  });

  it('deleting a destination cancels its run and removes its schedule, credentials, config and snapshots', async () => {
    const d = await createDestination(s.env, { config: { mode: 'mirror' } });
    const first = (await runExport(s.temporal.client, s.taskQueue, d, ['all'], 'mirror')).result;
    expect(first.status).toBe('completed');
    const audienceId = first.audienceId;
    expect((await s.env.store.snapshots.count(audienceId)).total).toBeGreaterThan(0);
    const scheduled = await s.app.inject({
      method: 'PUT',
      url: `/destinations/${d.id}/schedule`,
      headers: auth,
      payload: { intervalSeconds: 86_400 },
    });
    expect(scheduled.statusCode).toBe(200);
    await s.temporal.client.schedule.getHandle(scheduleIdOf(d.id)).describe();

    // A slow sandbox keeps the next run in flight while the destination goes.
    await fetch(`${s.env.sandbox.url}/__sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 400 }),
    });
    try {
      await s.env.db.query(`UPDATE ${s.env.tables.profilesTable} SET first_name = first_name || 'x'`);
      const started = await s.app.inject({ method: 'POST', url: `/destinations/${d.id}/exports`, headers: auth });
      expect(started.statusCode).toBe(202);
      const { runId, workflowId } = started.json<{ runId: string; workflowId: string }>();
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const run = await s.env.store.exportRuns.get(runId).catch(() => undefined);
        if (run && run.status === 'running' && run.phase !== 'validating') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const deleted = await s.app.inject({ method: 'DELETE', url: `/destinations/${d.id}`, headers: auth });
      expect(deleted.statusCode).toBe(204);

      await s.temporal.client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
      const run = await s.env.store.exportRuns.get(runId);
      expect(run.status).not.toBe('running');
      expect(['cancelled', 'failed', 'partial']).toContain(run.status);
    } finally {
      await fetch(`${s.env.sandbox.url}/__sandbox/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latencyMs: null }),
      });
    }
    await expect(s.temporal.client.schedule.getHandle(scheduleIdOf(d.id)).describe()).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
    const left = async (table: string, column: string, value: string) =>
      (await s.env.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [value]))[0]!
        .n;
    expect(await left('credentials', 'destination_id', d.id)).toBe(0);
    expect(await left('export_configs', 'destination_id', d.id)).toBe(0);
    expect(await left('destinations', 'id', d.id)).toBe(0);
    expect(await left('audience_snapshots', 'audience_id', audienceId)).toBe(0);
    const gone = await s.app.inject({ method: 'GET', url: `/destinations/${d.id}`, headers: auth });
    expect(gone.statusCode).toBe(404);
  });

  it('a page that read its members before its destination was deleted writes no snapshot row after the deletion', async () => {
    // The race the test above can hit under load, in a fixed order: the page activity has read its members, the
    // deletion then runs to its end (snapshot deleted), and only then does the page record its rows.
    const d = await createDestination(s.env, { config: { mode: 'mirror' } });
    const source = s.env.source;
    const readPage = source.readPage.bind(source);
    let deleted: Promise<number> | undefined;
    source.readPage = async (options) => {
      const rows = await readPage(options);
      deleted ??= s.app
        .inject({ method: 'DELETE', url: `/destinations/${d.id}`, headers: auth })
        .then((res) => res.statusCode);
      await deleted;
      return rows;
    };
    let started: Awaited<ReturnType<typeof startExport>>;
    try {
      started = await startExport(s.temporal.client, targetOf(d, ['all'], 'mirror'), {
        taskQueue: s.taskQueue,
        trigger: 'manual',
        timings: { healthCheckDelaysMs: [] },
      });
      await s.temporal.client.workflow
        .getHandle(started.workflowId)
        .result()
        .catch(() => undefined);
    } finally {
      source.readPage = readPage;
    }
    expect(await deleted).toBe(204);
    const run = await s.env.store.exportRuns.get(started.runId);
    expect(['cancelled', 'failed']).toContain(run.status);
    expect(run.audienceId).toMatch(/^\d+$/);
    for (const table of [
      'audience_snapshots',
      'audience_snapshot_pages',
      'audience_snapshot_recorded_pages',
      'audience_snapshot_meta',
    ]) {
      const [row] = await s.env.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${table} WHERE audience_id = $1`,
        [run.audienceId],
      );
      expect({ table, rows: row!.n }).toEqual({ table, rows: 0 });
    }
  });

  it('the sweep drops staging tables of dead runs and keeps those of live ones', async () => {
    // A staging schema of this test's own, so the sweep never sees other files' tables.
    await s.env.db.query('CREATE SCHEMA IF NOT EXISTS sec_sweep_staging');
    const source = await createProfileSource(s.env.db, { ...s.env.sourceConfig, stagingSchema: 'sec_sweep_staging' });
    const d = await createDestination(s.env, { config: { mode: 'add' } });
    const freeze = (runId: string) =>
      source.freeze({ runId, segments: ['all'], attributes: ['email'], maxRows: 1_000_000 });
    const base = {
      destinationId: d.id,
      adAccountId: d.adAccountId!,
      audienceId: null,
      segments: ['all'],
      mode: 'add' as const,
      trigger: 'manual' as const,
    };

    // 1. no record at all; 2. recorded running, but its workflow is gone; 3. finished; 4. running for real.
    const orphan = randomUUID();
    const crashed = randomUUID();
    const finished = randomUUID();
    const live = randomUUID();
    await s.env.store.exportRuns.create({ ...base, id: crashed, workflowId: `sec-sweep-gone-${crashed}` });
    await s.env.store.exportRuns.create({ ...base, id: finished, workflowId: `sec-sweep-done-${finished}` });
    await s.env.db.query("UPDATE export_runs SET status = 'failed', finished_at = now() WHERE id = $1", [finished]);
    const liveWorkflowId = `sec-sweep-live-${live}`;
    const handle = await s.temporal.client.workflow.start('checkTokens', {
      taskQueue: `no-worker-${live}`,
      workflowId: liveWorkflowId,
    });
    await s.env.store.exportRuns.create({ ...base, id: live, workflowId: liveWorkflowId });
    for (const id of [orphan, crashed, finished, live]) await freeze(id);
    expect((await source.listFrozen()).sort()).toEqual([orphan, crashed, finished, live].sort());

    const summary = await sweepStagingTables({
      store: s.env.store,
      source,
      temporalClient: s.temporal.client,
    });
    expect(summary.swept.sort()).toEqual([orphan, crashed, finished].sort());
    expect(await source.listFrozen()).toEqual([live]);
    expect(await source.countFrozen(live)).toBeGreaterThan(0);

    // Without a Temporal client nothing is proven dead, so nothing goes.
    await handle.terminate('test over');
    expect((await sweepStagingTables({ store: s.env.store, source })).swept).toEqual([]);
    expect((await sweepStagingTables({ store: s.env.store, source, temporalClient: s.temporal.client })).swept).toEqual(
      [live],
    );
  });
});
