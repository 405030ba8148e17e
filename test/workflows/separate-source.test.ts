import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeSegmentShare, demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { openResources, type Resources } from '../../src/resources.js';
import { openDb, type Db } from '../../src/store/db.js';
import type { ExportRun } from '../../src/store/index.js';
import { openPrivateDb } from '../security/private-db.js';
import { testConfig } from '../support/api-harness.js';
import { listenJson, startApiWorld, type ApiWorld, type JsonClient } from '../support/api-world.js';
import { createDestination } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { lastCallSeq, sandboxCalls } from '../support/run-export.js';
import { createSourceDatabase, type SourceDatabase } from '../support/source-database.js';
import { waitFor } from '../support/wait.js';

const PROFILES = 4_000;
const TABLES = { profilesTable: 'sep_wf_profiles', membersTable: 'sep_wf_members' };

/**
 * SOURCE_DATABASE_URL naming another database, read by a role with SELECT only (no CREATE, no temporary tables),
 * opened as every process opens it (openResources), behind the API and a worker: a first mirror export and a
 * refresh after joiners, leavers and changed e-mails, started over HTTP, both exact in the sandbox audience, with
 * nothing written to the source.
 */
describe('export from a separate profile database through a read-only role', () => {
  let ours: Awaited<ReturnType<typeof openPrivateDb>>;
  let profiles: SourceDatabase;
  let resources: Resources;
  let world: ApiWorld;
  let api: JsonClient<{ runId: string; status: string }>;

  beforeAll(async () => {
    ours = await openPrivateDb('sep_wf_ours');
    profiles = await createSourceDatabase('sep_wf_src');
    await seedDemoProfiles(profiles.owner, { ...TABLES, profiles: PROFILES, seed: 5 });
    await profiles.grantReads();
    const db: Db = await openDb({ url: ours.url, maxConnections: 4 });
    resources = await openResources(
      testConfig({
        DATABASE_URL: ours.url,
        SOURCE_DATABASE_URL: profiles.readerUrl,
        PROFILE_SOURCE: JSON.stringify(demoSourceConfig(TABLES)),
      }),
      { db },
    );
    expect(resources.sourceDb).not.toBe(resources.db);
    // The world's store, sandbox, API and worker on our database (its own demo tables stay empty).
    world = await startApiWorld('sep_wf', { profiles: 0, pageSize: 500, db, source: resources.source });
    api = await listenJson(world.app);
  }, 120_000);

  afterAll(async () => {
    await world?.close();
    await resources?.close();
    await profiles?.drop();
    await ours?.drop().catch(() => undefined);
  });

  const tablesIn = async (db: Db) =>
    (await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map(
      (r) => r.t,
    );

  /** Starts the destination's export over HTTP and waits for its record to say it completed. */
  async function exportOverApi(destinationId: string): Promise<ExportRun> {
    const started = await api.send('POST', `/destinations/${destinationId}/exports`);
    expect(started.status).toBe(202);
    await waitFor(
      async () => ((await api.get(`/exports/${started.body.runId}`)).body.status === 'completed' ? true : undefined),
      120_000,
    );
    return world.env.store.exportRuns.get(started.body.runId);
  }

  it('a mirror export and a refresh after 3% of the segment changed: the audience exact both times', async () => {
    const { env } = world;
    const sourceTables = await tablesIn(profiles.owner);
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    const first = await exportOverApi(destination.id);
    const before = await expectedRows(profiles.owner, TABLES, ['all']);
    expect(first).toMatchObject({ effectiveMode: 'mirror', sent: before.rows.size, segmentSize: PROFILES });
    expect((await sandboxMembers(env.sandbox, first.audienceId!)).rows).toEqual(before.rows);

    const change = await changeSegmentShare(profiles.owner, { ...TABLES, segment: 'all', share: 0.03, seed: 9 });
    expect(change.left).toBeGreaterThan(0);
    expect(change.joined).toBeGreaterThan(0);
    expect(change.changedEmail).toBeGreaterThan(0);
    const mark = await lastCallSeq(env.sandbox.url);
    const second = await exportOverApi(destination.id);
    const after = await expectedRows(profiles.owner, TABLES, ['all']);

    // The whole segment was read, but only the difference went to Meta: the comparison ran in our database.
    const joinedOrChanged = [...after.byKey].filter(([key, row]) => before.byKey.get(key) !== row).length;
    const leftRows = [...before.byKey.keys()].filter((key) => !after.byKey.has(key)).length;
    expect(joinedOrChanged).toBeGreaterThan(0);
    expect(leftRows).toBeGreaterThan(0);
    expect(second).toMatchObject({
      effectiveMode: 'mirror',
      freezeScope: 'changes',
      segmentSize: after.memberKeys.length,
      sent: joinedOrChanged,
      removed: leftRows,
    });
    const calls = (await sandboxCalls(env.sandbox.url, mark)).filter((c) => c.path.endsWith('/users'));
    expect(calls.reduce((n, c) => n + (c.rows ?? 0), 0)).toBe(joinedOrChanged + leftRows);

    // The audience: the new segment, plus the old rows of members who changed (kept until they leave).
    const changedOld = [...before.byKey].filter(([key, row]) => after.byKey.has(key) && after.byKey.get(key) !== row);
    expect((await sandboxMembers(env.sandbox, second.audienceId!)).rows).toEqual(
      new Set([...after.rows, ...changedOld.map(([, row]) => row)]),
    );

    // Nothing was made in the source; the runs' staging tables were ours, and are gone.
    expect(await tablesIn(profiles.owner)).toEqual(sourceTables);
    expect((await tablesIn(env.db)).filter((t) => t.startsWith('staging_run_'))).toEqual([]);
  });
});
