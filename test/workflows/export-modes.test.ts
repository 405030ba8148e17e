import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRows, CANONICAL_SCHEMA } from '../../src/domain/canonical-row.js';
import { MODE_REASON_TEXT } from '../../src/domain/snapshot-basis.js';
import { changeSegmentShare, demoSourceConfig } from '../../src/demo/demo-seed.js';
import { createProfileSource } from '../../src/sources/profile-source.js';
import { startExport } from '../../src/temporal/start-export.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import {
  createDestination,
  createExportEnv,
  startExportWorld,
  inProcessWorker,
  targetOf,
  type ExportEnv,
} from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { recordHistory } from '../support/history.js';
import { lastCallSeq, runExport, sandboxCalls } from '../support/run-export.js';
import { until, waitFor } from '../support/wait.js';

const PROFILES = 10_000;

describe('export modes: mirror, replace, per-profile consent', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let taskQueue: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ env, temporal, taskQueue, stop } = await startExportWorld('wf_modes', PROFILES, 1_000));
  });
  afterAll(() => stop());

  it('mirror: a refresh after 1% of the segment changed sends only the difference', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    const first = await runExport(temporal.client, taskQueue, destination, ['all'], 'mirror');
    const before = await expectedRows(env.db, env.tables, ['all']);
    expect((await sandboxMembers(env.sandbox, first.result.audienceId)).rows).toEqual(before.rows);
    expect(first.result.progress.mode).toBe('mirror');

    const change = await changeSegmentShare(env.db, { ...env.tables, segment: 'all', share: 0.01, seed: 3 });
    expect(change.left + change.joined + change.changedEmail).toBe(100);
    const mark = await lastCallSeq(env.sandbox.url);
    const second = await runExport(temporal.client, taskQueue, destination, ['all'], 'mirror');
    await recordHistory('export-mirror', second.started.workflowId, second.started.temporalRunId);
    const after = await expectedRows(env.db, env.tables, ['all']);

    // Only the difference went out: joiners and changed members added, leavers removed.
    const calls = (await sandboxCalls(env.sandbox.url, mark)).filter((c) => c.path.endsWith('/users'));
    const sentRows = calls.reduce((n, c) => n + (c.rows ?? 0), 0);
    const joinedOrChanged = [...after.byKey].filter(([key, row]) => before.byKey.get(key) !== row).length;
    const leftRows = [...before.byKey.keys()].filter((key) => !after.byKey.has(key)).length;
    expect(second.result.progress.rowsSent).toBe(joinedOrChanged);
    expect(second.result.progress.rowsRemoved).toBe(leftRows);
    expect(sentRows).toBe(joinedOrChanged + leftRows);
    expect(sentRows).toBeLessThan(PROFILES * 0.02);
    expect(calls.filter((c) => c.method === 'DELETE').length).toBeGreaterThan(0);

    // The audience holds the new segment, plus the old rows of members who changed (kept until they leave).
    const members = await sandboxMembers(env.sandbox, second.result.audienceId);
    const changedOld = [...before.byKey].filter(([key, row]) => after.byKey.has(key) && after.byKey.get(key) !== row);
    expect([...after.rows].filter((r) => !members.rows.has(r))).toEqual([]);
    expect(members.rows.size).toBe(after.rows.size + changedOld.length);
    for (const [, row] of changedOld) expect(members.rows.has(row)).toBe(true);
    const run = await env.store.exportRuns.get(second.started.runId);
    expect(run.removed).toBe(leftRows);
    expect(run.effectiveMode).toBe('mirror');
  });

  it('mirror without a change column: a refresh compares every member’s fingerprint and sends the same difference', async () => {
    const plain = await createProfileSource(env.db, demoSourceConfig(env.tables, { changeColumn: false }));
    const queue = uniqueTaskQueue('wf_modes_plain');
    const worker = await inProcessWorker(env, temporal, queue, 1_000, { source: plain });
    const running = worker.run();
    try {
      const destination = await createDestination(env, { config: { mode: 'mirror', segments: ['vip'] } });
      const first = await runExport(temporal.client, queue, destination, ['vip'], 'mirror');
      const before = await expectedRows(env.db, env.tables, ['vip']);
      expect((await sandboxMembers(env.sandbox, first.result.audienceId)).rows).toEqual(before.rows);

      await changeSegmentShare(env.db, { ...env.tables, segment: 'vip', share: 0.06, seed: 5 });
      const second = await runExport(temporal.client, queue, destination, ['vip'], 'mirror');
      const after = await expectedRows(env.db, env.tables, ['vip']);
      const joinedOrChanged = [...after.byKey].filter(([key, row]) => before.byKey.get(key) !== row).length;
      const leftRows = [...before.byKey.keys()].filter((key) => !after.byKey.has(key)).length;
      expect(joinedOrChanged).toBeGreaterThan(0);
      expect(second.result.progress).toMatchObject({
        mode: 'mirror',
        rowsSent: joinedOrChanged,
        rowsRemoved: leftRows,
      });
      const changedOld = [...before.byKey].filter(([key, row]) => after.byKey.has(key) && after.byKey.get(key) !== row);
      expect((await sandboxMembers(env.sandbox, second.result.audienceId)).rows).toEqual(
        new Set([...after.rows, ...changedOld.map(([, row]) => row)]),
      );
      expect(await env.store.snapshots.meta(second.result.audienceId)).toMatchObject({ changeColumn: null });
    } finally {
      worker.shutdown();
      await running;
    }
  });

  it('mirror: partial adds of a run killed half-way are removed by the next run', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror', segments: ['vip'] } });
    env.sandbox.faults.set({ latencyMs: 200 });
    const started = await startExport(temporal.client, targetOf(destination, ['vip'], 'mirror'), {
      taskQueue,
      trigger: 'manual',
      pageConcurrency: 1,
      timings: { healthCheckDelaysMs: [] },
    });
    const handle = temporal.client.workflow.getHandle(started.workflowId);
    await until(async () => (await handle.query(progressQuery)).pagesDone >= 1);
    await handle.terminate('test: the run dies half-way');
    env.sandbox.faults.set({ latencyMs: null });

    const audienceId = (await env.store.destinations.get(destination.id)).audienceId!;
    const partial = await sandboxMembers(env.sandbox, audienceId);
    expect(partial.rows.size).toBeGreaterThan(0);
    // Members that were sent by the dead run leave the segment before the next run.
    const vip = await expectedRows(env.db, env.tables, ['vip']);
    const leavers = [...vip.byKey]
      .filter(([, row]) => partial.rows.has(row))
      .slice(0, 25)
      .map(([key]) => key);
    expect(leavers.length).toBeGreaterThan(0);
    await env.db.query(`DELETE FROM ${env.tables.membersTable} WHERE segment = 'vip' AND profile_key = ANY($1)`, [
      leavers,
    ]);

    const rerun = await runExport(
      temporal.client,
      taskQueue,
      await env.store.destinations.get(destination.id),
      ['vip'],
      'mirror',
    );
    expect(rerun.result.progress.mode).toBe('mirror');
    const expected = await expectedRows(env.db, env.tables, ['vip']);
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(expected.rows);
  });

  it('mirror: a changed e-mail adds a row and keeps the old one until the profile leaves; replace clears it', async () => {
    // A segment of this test's own, so the other tests' changes do not reach it.
    const all = await expectedRows(env.db, env.tables, ['all']);
    const keys = [...all.usableKeys].sort().slice(0, 40);
    const [leaver, stayer] = keys as [string, string];
    const { profilesTable, membersTable } = env.tables;
    await env.db.query(`INSERT INTO ${membersTable} (profile_key, segment) SELECT unnest($1::text[]), 'email_change'`, [
      keys,
    ]);
    const original = await env.db.query<{ key: string; email: string }>(
      `SELECT key, email FROM ${profilesTable} WHERE key = ANY($1)`,
      [[leaver, stayer]],
    );
    const segments = ['email_change'];
    try {
      const destination = await createDestination(env, { config: { mode: 'mirror', segments } });
      const first = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
      const audienceId = first.result.audienceId;
      const before = await expectedRows(env.db, env.tables, segments);
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(before.rows);
      const oldRow = (key: string) => before.byKey.get(key)!;

      await env.db.query(
        `UPDATE ${profilesTable} SET email = 'changed-' || key || '@example.com' WHERE key = ANY($1)`,
        [[leaver, stayer]],
      );
      const changed = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
      const now = await expectedRows(env.db, env.tables, segments);
      expect(changed.result.progress.rowsSent).toBe(2);
      expect(changed.result.progress.rowsRemoved).toBe(0);
      // Both rows of each changed member: Meta removes people, and the old row's other cells are the same person.
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(
        new Set([...now.rows, oldRow(leaver), oldRow(stayer)]),
      );

      await env.db.query(`DELETE FROM ${membersTable} WHERE segment = 'email_change' AND profile_key = $1`, [leaver]);
      const left = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
      const remaining = await expectedRows(env.db, env.tables, segments);
      expect(left.result.progress.rowsRemoved).toBe(2); // the leaver's old and new rows
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(
        new Set([...remaining.rows, oldRow(stayer)]),
      );

      // The run takes its mode from the stored export config.
      const { destinationId: _id, updatedAt: _at, ...config } = await env.store.exportConfigs.get(destination.id);
      await env.store.exportConfigs.put(destination.id, { ...config, mode: 'replace' });
      const replaced = await runExport(temporal.client, taskQueue, destination, segments, 'replace');
      expect(replaced.result.progress.mode).toBe('replace');
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(remaining.rows);
    } finally {
      for (const { key, email } of original) {
        await env.db.query(`UPDATE ${profilesTable} SET email = $2 WHERE key = $1`, [key, email]);
      }
      await env.db.query(`DELETE FROM ${membersTable} WHERE segment = 'email_change'`);
    }
  });

  it('mirror with a change log: joiners, leavers, a changed e-mail, a deleted profile and withdrawn consent come from the log and the change column alone; a retried page sends the same rows under the same batch', async () => {
    const { profilesTable, membersTable } = env.tables;
    const changes = `${profilesTable}_changes`;
    const segments = ['log_refresh'];
    const all = await expectedRows(env.db, env.tables, ['all'], { consentAttribute: true });
    // Profiles no other test changed lately (nothing of theirs in the log or the change column this past hour).
    const quiet = await env.db.query<{ key: string }>(
      `SELECT key FROM ${profilesTable} p WHERE updated_at < now() - interval '1 hour'
         AND NOT EXISTS (SELECT 1 FROM ${changes} c WHERE c.profile_key = p.key AND c.changed_at > now() - interval '1 hour')
       ORDER BY key`,
    );
    const keys = quiet
      .map((r) => r.key)
      .filter((k) => all.usableKeys.has(k))
      .slice(100, 160);
    const [leaver, changedEmail, withdrawing, silentLeaver, joiner] = [
      keys[0]!,
      keys[1]!,
      keys[2]!,
      keys[3]!,
      keys[59]!,
    ];
    // A profile of the test's own, deleted from the source later (a member's copy under a new key and e-mail).
    const deleted = 'logdel-0001';
    await env.db.query(
      `INSERT INTO ${profilesTable} SELECT $2, 'logdel-0001@example.com', phone, first_name, last_name, gender, date_of_birth, city, state,
         zip, country, marketing_consent, updated_at FROM ${profilesTable} WHERE key = $1`,
      [keys[4], deleted],
    );
    await env.db.query(`INSERT INTO ${membersTable} (profile_key, segment) SELECT unnest($1::text[]), $2`, [
      [...keys.slice(0, 59), deleted],
      segments[0],
    ]);
    // The segment was built long ago: its log entries are a month old, before any watermark's window.
    await env.db.query(
      `UPDATE ${changes} SET changed_at = changed_at - interval '30 days' WHERE profile_key = ANY($1)`,
      [[...keys, deleted]],
    );
    const original = await env.db.query<{ key: string; email: string }>(
      `SELECT key, email FROM ${profilesTable} WHERE key = $1`,
      [changedEmail],
    );
    try {
      const destination = await createDestination(env, {
        config: { mode: 'mirror', segments, consentAttribute: 'marketing_consent' },
      });
      const first = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
      const audienceId = first.result.audienceId;
      const before = await expectedRows(env.db, env.tables, segments, { consentAttribute: true });
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(before.rows);
      expect(before.byKey.has(deleted)).toBe(true);

      await env.db.query(`DELETE FROM ${membersTable} WHERE segment = $1 AND profile_key = $2`, [segments[0], leaver]);
      await env.db.query(`INSERT INTO ${membersTable} (segment, profile_key) VALUES ($1, $2)`, [segments[0], joiner]);
      await env.db.query(`UPDATE ${profilesTable} SET email = 'log-changed@example.com' WHERE key = $1`, [
        changedEmail,
      ]);
      await env.db.query(`UPDATE ${profilesTable} SET marketing_consent = false WHERE key = $1`, [withdrawing]);
      await env.db.query(`DELETE FROM ${profilesTable} WHERE key = $1`, [deleted]);
      // A leaver the log never hears of (its trigger off): the refresh checks only keys the log or the change column
      // name, so this one stays until a full compare.
      await env.db.query(`ALTER TABLE ${membersTable} DISABLE TRIGGER ae_demo_log_delete`);
      await env.db.query(`DELETE FROM ${membersTable} WHERE segment = $1 AND profile_key = $2`, [
        segments[0],
        silentLeaver,
      ]);
      await env.db.query(`ALTER TABLE ${membersTable} ENABLE TRIGGER ae_demo_log_delete`);
      const { changeWatermark } = (await env.store.snapshots.meta(audienceId))!;
      const logged = await env.db.query<{ k: string }>(
        `SELECT DISTINCT profile_key AS k FROM ${changes} WHERE profile_key = ANY($1) AND changed_at > $2 ORDER BY 1`,
        [[leaver, joiner, deleted, silentLeaver], changeWatermark],
      );
      expect(logged.map((r) => r.k)).toEqual([leaver, joiner, deleted].sort());

      // The first add page fails once with a transient error and is sent again.
      env.sandbox.faults.set({ failingRoutes: [{ route: 'POST node/users', times: 1 }] });
      const mark = await lastCallSeq(env.sandbox.url);
      const refreshStarted = new Date();
      const second = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
      env.sandbox.faults.set({ failingRoutes: [] });
      const run = await env.store.exportRuns.get(second.started.runId);
      const [members] = await env.db.query<{ n: number }>(
        `SELECT count(*)::int8 AS n FROM ${profilesTable} p
         WHERE EXISTS (SELECT 1 FROM ${membersTable} m WHERE m.segment = $1 AND m.profile_key = p.key)`,
        segments,
      );
      // The member count ran beside the freeze, on a connection of its own, and still counts the whole segment.
      expect(run).toMatchObject({ freezeScope: 'changes', effectiveMode: 'mirror', segmentSize: members!.n });
      // The refresh analysed the snapshot before probing it by index (stale statistics planned a hash of all of it).
      const analysed = await waitFor(async () => {
        const [row] = await env.db.query<{ at: Date | null }>(
          `SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relid = 'audience_snapshots'::regclass`,
        );
        return row?.at && row.at >= refreshStarted ? row.at : undefined;
      });
      expect(analysed.getTime()).toBeGreaterThanOrEqual(refreshStarted.getTime());
      // Sent: the joiner and the changed e-mail. Removed: the leaver, the deleted profile, the withdrawn consent.
      expect(second.result.progress).toMatchObject({ rowsSent: 2, rowsRemoved: 3 });
      const adds = (await sandboxCalls(env.sandbox.url, mark)).filter(
        (c) => c.method === 'POST' && c.path.endsWith('/users'),
      );
      expect(adds.map((c) => c.status === 200)).toEqual([false, true]);
      // The transient error was answered before the sandbox read the session; the page's one success is batch 1.
      expect(adds[1]).toMatchObject({ batchSeq: 1, rows: 2 });

      const after = await expectedRows(env.db, env.tables, segments, { consentAttribute: true });
      const stale = before.byKey.get(silentLeaver)!;
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(
        new Set([...after.rows, before.byKey.get(changedEmail)!, stale]),
      );
      for (const key of [leaver, deleted, withdrawing]) {
        expect((await sandboxMembers(env.sandbox, audienceId)).rows.has(before.byKey.get(key)!)).toBe(false);
      }

      // A full compare (the same tables without the log) finds the silent leaver.
      const unlogged = await createProfileSource(env.db, demoSourceConfig(env.tables, { changeLog: false }));
      const queue = uniqueTaskQueue('wf_modes_unlogged');
      const worker = await inProcessWorker(env, temporal, queue, 1_000, { source: unlogged });
      const running = worker.run();
      try {
        const third = await runExport(temporal.client, queue, destination, segments, 'mirror');
        expect(third.result.progress).toMatchObject({ rowsSent: 0, rowsRemoved: 1 });
      } finally {
        worker.shutdown();
        await running;
      }
      expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(
        new Set([...after.rows, before.byKey.get(changedEmail)!]),
      );
    } finally {
      env.sandbox.faults.set({ failingRoutes: [] });
      for (const { key, email } of original) {
        await env.db.query(`UPDATE ${profilesTable} SET email = $2 WHERE key = $1`, [key, email]);
      }
      await env.db.query(`UPDATE ${profilesTable} SET marketing_consent = true WHERE key = $1`, [withdrawing]);
      await env.db.query(`DELETE FROM ${membersTable} WHERE segment = $1`, [segments[0]]);
      await env.db.query(`DELETE FROM ${profilesTable} WHERE key = $1`, [deleted]);
    }
  });

  it('mirror after a mapping or key-identifier change: the next run replaces the audience and says why', async () => {
    const segments = ['vip'];
    const destination = await createDestination(env, { config: { mode: 'mirror', segments } });
    const first = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
    const audienceId = first.result.audienceId;
    const full = await expectedRows(env.db, env.tables, segments);
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(full.rows);
    expect((await env.store.exportRuns.get(first.started.runId)).modeReason).toBe('first_export');

    // Three keys instead of ten: every row changes, and no row of the old mapping may stay.
    const { destinationId: _id, updatedAt: _at, ...config } = await env.store.exportConfigs.get(destination.id);
    const narrow = { EMAIL: { attribute: 'email' }, ZIP: { attribute: 'zip' }, COUNTRY: { attribute: 'country' } };
    await env.store.exportConfigs.put(destination.id, { ...config, mapping: narrow });
    const remapped = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
    expect(remapped.result.progress.mode).toBe('replace');
    const run = await env.store.exportRuns.get(remapped.started.runId);
    expect(run).toMatchObject({ effectiveMode: 'replace', modeReason: 'basis_changed' });
    expect(MODE_REASON_TEXT.basis_changed).toMatch(/mapping, key identifier.*changed.*rows sent under the old/);
    const keep = new Set(['EMAIL', 'ZIP', 'COUNTRY']);
    const narrowRows = new Set(
      [...full.rows].map((r) =>
        JSON.stringify(
          (JSON.parse(r) as unknown[]).map((c, i) => (i >= 15 || keep.has(CANONICAL_SCHEMA[i]!) ? c : '')),
        ),
      ),
    );
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(narrowRows);

    // Nothing changed since: a refresh that sends nothing and leaves the audience as it is.
    const again = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
    expect(again.result.progress).toMatchObject({ mode: 'mirror', rowsSent: 0, rowsRemoved: 0 });
    expect((await env.store.exportRuns.get(again.started.runId)).modeReason).toBe('refresh');
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(narrowRows);

    // Phone as the key identifier: other profiles are sendable; the audience is replaced again.
    const byPhone = { PHONE: { attribute: 'phone' }, ZIP: { attribute: 'zip' }, COUNTRY: { attribute: 'country' } };
    await env.store.exportConfigs.put(destination.id, { ...config, keyIdentifier: 'PHONE', mapping: byPhone });
    const rekeyed = await runExport(temporal.client, taskQueue, destination, segments, 'mirror');
    expect(rekeyed.result.progress.mode).toBe('replace');
    expect((await env.store.exportRuns.get(rekeyed.started.runId)).modeReason).toBe('basis_changed');
    const profiles = await env.db.query<{ key: string } & Record<string, unknown>>(
      `SELECT p.* FROM ${env.tables.profilesTable} p WHERE EXISTS (SELECT 1 FROM ${env.tables.membersTable} m
         WHERE m.segment = 'vip' AND m.profile_key = p.key)`,
    );
    const phoneRows = buildRows(
      profiles.map((p) => ({ key: p.key, attributes: p })),
      byPhone,
      { keyIdentifier: 'PHONE', defaultCountry: 'US' },
    ).rows.map((r) => JSON.stringify(r.cells));
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(new Set(phoneRows));
  });

  it('mirror: the first run on an audience that already has members replaces them', async () => {
    const destination = await createDestination(env, {
      existingAudience: true,
      config: { mode: 'mirror', segments: ['vip'] },
    });
    const audienceId = destination.audienceId!;
    const junk = [
      CANONICAL_SCHEMA.map((k, j) => (j === 1 ? hex64(9_999) : k.startsWith('DATA') ? (j === 15 ? [] : 0) : '')),
    ];
    await env.graph.addUsers(
      {
        audienceId,
        payload: { schema: [...CANONICAL_SCHEMA], data: junk },
        session: { sessionId: 78, batchSeq: 1, lastBatch: true },
      },
      { token: env.sandbox.fixtures.systemUserToken },
    );
    const { started, result } = await runExport(temporal.client, taskQueue, destination, ['vip'], 'mirror');
    expect(result.progress.mode).toBe('replace');
    expect((await env.store.exportRuns.get(started.runId)).effectiveMode).toBe('replace');
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(
      (await expectedRows(env.db, env.tables, ['vip'])).rows,
    );
  });

  it('replace: a non-empty audience ends up equal to the segment; batch 1 went alone and first', async () => {
    const destination = await createDestination(env, { existingAudience: true, config: { mode: 'replace' } });
    const audienceId = destination.audienceId!;
    // Someone else's members already in the audience.
    const junk = Array.from({ length: 300 }, (_, i) =>
      CANONICAL_SCHEMA.map((k, j) => (j === 1 ? hex64(i) : k.startsWith('DATA') ? (j === 15 ? [] : 0) : '')),
    );
    await env.graph.addUsers(
      {
        audienceId,
        payload: { schema: [...CANONICAL_SCHEMA], data: junk },
        session: { sessionId: 77, batchSeq: 1, lastBatch: true },
      },
      { token: env.sandbox.fixtures.systemUserToken },
    );
    const mark = await lastCallSeq(env.sandbox.url);
    const { result, started } = await runExport(temporal.client, taskQueue, destination, ['all'], 'replace');
    await recordHistory('export-replace', started.workflowId, started.temporalRunId);
    const expected = await expectedRows(env.db, env.tables, ['all']);
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(expected.rows);
    expect(result.progress.mode).toBe('replace');

    const replaceCalls = (await sandboxCalls(env.sandbox.url, mark)).filter((c) => c.path.endsWith('/usersreplace'));
    expect(replaceCalls.length).toBeGreaterThan(2);
    expect(replaceCalls[0]!.batchSeq).toBe(1);
    expect(replaceCalls.filter((c) => c.batchSeq === 1)).toHaveLength(1);
    expect(new Set(replaceCalls.map((c) => c.sessionId)).size).toBe(1);
    expect(replaceCalls.at(-1)!.lastBatchFlag).toBe(true);
    expect(replaceCalls.filter((c) => c.lastBatchFlag)).toHaveLength(1);
    expect(replaceCalls.some((c) => c.restarted)).toBe(false);
    // No /users call during the replace.
    expect((await sandboxCalls(env.sandbox.url, mark)).filter((c) => c.path.endsWith('/users'))).toEqual([]);
  });

  it('Limited Data Use fills the data-processing-options cells of every row', async () => {
    const destination = await createDestination(env, {
      config: { mode: 'add', segments: ['one_percent'], limitedDataUse: true },
    });
    const { result } = await runExport(temporal.client, taskQueue, destination, ['one_percent'], 'add');
    const members = await sandboxMembers(env.sandbox, result.audienceId);
    expect(members.schema.slice(-3)).toEqual([
      'DATA_PROCESSING_OPTIONS',
      'DATA_PROCESSING_OPTIONS_COUNTRY',
      'DATA_PROCESSING_OPTIONS_STATE',
    ]);
    expect(members.rows.size).toBeGreaterThan(0);
    for (const row of members.rows) expect((JSON.parse(row) as unknown[]).slice(-3)).toEqual([['LDU'], 0, 0]);
  });

  it.each(['mirror', 'add', 'replace'] as const)(
    '%s: a profile that withdraws consent is removed at the next run',
    async (mode) => {
      const destination = await createDestination(env, {
        config: { mode, segments: ['one_percent', 'vip'], consentAttribute: 'marketing_consent' },
      });
      const segments = ['one_percent', 'vip'];
      const first = await runExport(temporal.client, taskQueue, destination, segments, mode);
      const before = await expectedRows(env.db, env.tables, segments, { consentAttribute: true });
      expect((await sandboxMembers(env.sandbox, first.result.audienceId)).rows).toEqual(before.rows);
      expect(first.result.progress.droppedByReason.no_consent).toBeGreaterThan(0);

      const withdrawing = [...before.usableKeys].slice(0, 10);
      await env.db.query(`UPDATE ${env.tables.profilesTable} SET marketing_consent = false WHERE key = ANY($1)`, [
        withdrawing,
      ]);
      const second = await runExport(
        temporal.client,
        taskQueue,
        await env.store.destinations.get(destination.id),
        segments,
        mode,
      );
      const after = await expectedRows(env.db, env.tables, segments, { consentAttribute: true });
      const members = await sandboxMembers(env.sandbox, second.result.audienceId);
      for (const key of withdrawing) expect(members.rows.has(before.byKey.get(key)!)).toBe(false);
      expect(members.rows).toEqual(after.rows);
      await env.db.query(`UPDATE ${env.tables.profilesTable} SET marketing_consent = true WHERE key = ANY($1)`, [
        withdrawing,
      ]);
    },
  );
});

describe('replace past Meta’s session window', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;

  beforeAll(async () => {
    env = await createExportEnv('wf_replace_timeout', 6_000, { config: { sessionWindowMs: 1_500 } });
    temporal = await connectTemporal();
  });
  afterAll(async () => {
    await temporal.close();
    await env.close();
  });

  it('sends the rest as adds when the replace session times out, and the audience still equals the segment', async () => {
    const taskQueue = uniqueTaskQueue('replace-timeout');
    const destination = await createDestination(env, { existingAudience: true, config: { mode: 'replace' } });
    const worker = await inProcessWorker(env, temporal, taskQueue, 500);
    // 12 pages at 700 ms each, 4 at a time after batch 1: well past the 1.5-second window, however fast the machine.
    env.sandbox.faults.set({ latencyMs: 700 });
    const mark = await lastCallSeq(env.sandbox.url);
    const { result, started } = await worker.runUntil(
      runExport(temporal.client, taskQueue, destination, ['all'], 'replace'),
    );
    env.sandbox.faults.set({ latencyMs: null });
    await recordHistory('export-replace-timeout', started.workflowId, started.temporalRunId);

    const calls = await sandboxCalls(env.sandbox.url, mark);
    expect(calls.some((c) => c.errorCode === 2650 && c.errorSubcode === 1870158)).toBe(true);
    expect(calls.some((c) => c.path.endsWith('/users') && c.status === 200)).toBe(true);
    const expected = await expectedRows(env.db, env.tables, ['all']);
    expect((await sandboxMembers(env.sandbox, result.audienceId)).rows).toEqual(expected.rows);
    expect(result.progress.rowsSent).toBe(expected.usableKeys.size);
    expect((await env.store.exportRuns.get(started.runId)).status).toBe('completed');
  });
});

function hex64(i: number): string {
  return i.toString(16).padStart(64, 'a');
}
