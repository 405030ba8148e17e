import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeSegmentShare, demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { openResources, type Resources } from '../../src/resources.js';
import { openDb, type Db } from '../../src/store/db.js';
import { openPrivateDb } from '../security/private-db.js';
import { testConfig } from '../support/api-harness.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, inProcessWorker, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { lastCallSeq, runExport, sandboxCalls } from '../support/run-export.js';
import { createSourceDatabase, type SourceDatabase } from '../support/source-database.js';

const PROFILES = 4_000;
const TABLES = { profilesTable: 'sep_wf_profiles', membersTable: 'sep_wf_members' };

/**
 * SOURCE_DATABASE_URL naming another database, read by a role with SELECT only (no CREATE, no temporary tables),
 * opened as every process opens it (openResources): a first mirror export and a refresh after joiners, leavers and
 * changed e-mails, both exact in the sandbox audience, with nothing written to the source.
 */
describe('export from a separate profile database through a read-only role', () => {
  let ours: Awaited<ReturnType<typeof openPrivateDb>>;
  let profiles: SourceDatabase;
  let env: ExportEnv;
  let resources: Resources;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('wf_separate');

  beforeAll(async () => {
    ours = await openPrivateDb('sep_wf_ours');
    profiles = await createSourceDatabase('sep_wf_src');
    await seedDemoProfiles(profiles.owner, { ...TABLES, profiles: PROFILES, seed: 5 });
    await profiles.grantReads();
    // The env's store, sandbox and Graph client on our database; it holds no profiles of its own.
    const envDb: Db = await openDb({ url: ours.url, maxConnections: 4 });
    env = await createExportEnv('sep_wf_decoy', 0, {}, envDb);
    resources = await openResources(
      testConfig({
        DATABASE_URL: ours.url,
        SOURCE_DATABASE_URL: profiles.readerUrl,
        PROFILE_SOURCE: JSON.stringify(demoSourceConfig(TABLES)),
      }),
      { db: env.db, graph: env.graph },
    );
    expect(resources.sourceDb).not.toBe(resources.db);
    temporal = await connectTemporal();
    worker = await inProcessWorker(env, temporal, taskQueue, 500, { source: resources.source });
    running = worker.run();
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await resources?.close();
    await env?.close();
    await profiles?.drop();
    await ours?.drop().catch(() => undefined);
  });

  const tablesIn = async (db: Db) =>
    (await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map(
      (r) => r.t,
    );

  it('a mirror export and a refresh after 3% of the segment changed: the audience exact both times', async () => {
    const sourceTables = await tablesIn(profiles.owner);
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    const first = await runExport(temporal.client, taskQueue, destination, ['all'], 'mirror');
    const before = await expectedRows(profiles.owner, TABLES, ['all']);
    expect(first.result.progress).toMatchObject({ mode: 'mirror', rowsSent: before.rows.size });
    expect((await sandboxMembers(env.sandbox, first.result.audienceId)).rows).toEqual(before.rows);

    const change = await changeSegmentShare(profiles.owner, { ...TABLES, segment: 'all', share: 0.03, seed: 9 });
    expect(change.left).toBeGreaterThan(0);
    expect(change.joined).toBeGreaterThan(0);
    expect(change.changedEmail).toBeGreaterThan(0);
    const mark = await lastCallSeq(env.sandbox.url);
    const second = await runExport(
      temporal.client,
      taskQueue,
      await env.store.destinations.get(destination.id),
      ['all'],
      'mirror',
    );
    const after = await expectedRows(profiles.owner, TABLES, ['all']);

    // The whole segment was read, but only the difference went to Meta: the comparison ran in our database.
    const run = await env.store.exportRuns.get(second.started.runId);
    expect(run).toMatchObject({
      effectiveMode: 'mirror',
      freezeScope: 'changes',
      segmentSize: after.memberKeys.length,
    });
    const joinedOrChanged = [...after.byKey].filter(([key, row]) => before.byKey.get(key) !== row).length;
    const leftRows = [...before.byKey.keys()].filter((key) => !after.byKey.has(key)).length;
    expect(joinedOrChanged).toBeGreaterThan(0);
    expect(leftRows).toBeGreaterThan(0);
    expect(second.result.progress).toMatchObject({ mode: 'mirror', rowsSent: joinedOrChanged, rowsRemoved: leftRows });
    const calls = (await sandboxCalls(env.sandbox.url, mark)).filter((c) => c.path.endsWith('/users'));
    expect(calls.reduce((n, c) => n + (c.rows ?? 0), 0)).toBe(joinedOrChanged + leftRows);

    // The audience: the new segment, plus the old rows of members who changed (kept until they leave).
    const changedOld = [...before.byKey].filter(([key, row]) => after.byKey.has(key) && after.byKey.get(key) !== row);
    expect((await sandboxMembers(env.sandbox, second.result.audienceId)).rows).toEqual(
      new Set([...after.rows, ...changedOld.map(([, row]) => row)]),
    );

    // Nothing was made in the source; the runs' staging tables were ours, and are gone.
    expect(await tablesIn(profiles.owner)).toEqual(sourceTables);
    expect((await tablesIn(env.db)).filter((t) => t.startsWith('staging_run_'))).toEqual([]);
  });
});
