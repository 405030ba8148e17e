import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { AudienceAlreadyUsedError, createStore, migrate, type Store } from '../../src/store/index.js';

describe('the store on embedded PostgreSQL (PGlite)', () => {
  let dir: string;
  let db: Db;
  let store: Store;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ae-store-pglite-'));
    db = await openDb({ dataDir: join(dir, 'data') });
    store = createStore(db, { encryptionKey: randomBytes(32) });
  });
  afterAll(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its folder (DATA_DIR) the owner’s alone: 0700', async () => {
    expect((await stat(join(dir, 'data'))).mode & 0o777).toBe(0o700);
  });

  it('applies the same migrations, once', async () => {
    expect(db.kind).toBe('pglite');
    expect(await migrate(db)).toContain('001-store.sql');
    expect(await migrate(db)).toEqual([]);
  });

  it('runs destinations, credentials, runs, snapshots and blocks', async () => {
    const d = await store.destinations.create({
      displayName: 'Demo',
      facebookAppId: '1',
      adAccountId: 'act_42',
      audienceId: '4242',
    });
    await expect(
      store.destinations.create({
        displayName: 'Again',
        facebookAppId: '1',
        adAccountId: 'act_42',
        audienceId: '4242',
      }),
    ).rejects.toBeInstanceOf(AudienceAlreadyUsedError);

    await store.credentials.save(d.id, { kind: 'login', token: 'EAAB-pglite', scopes: ['ads_management'] });
    expect(await store.credentials.getToken(d.id)).toBe('EAAB-pglite');
    expect((await store.credentials.describe(d.id))?.keyVersion).toBe(1);

    const run = await store.exportRuns.create({
      id: randomUUID(),
      destinationId: d.id,
      adAccountId: 'act_42',
      audienceId: '4242',
      segments: ['all'],
      mode: 'mirror',
      trigger: 'manual',
      workflowId: 'export:act_42:4242',
    });
    const paged = await store.exportRuns.recordPage(run.id, 1, { sent: 2, dropped: { no_identifier: 1 } });
    expect(paged).toMatchObject({ sent: 2, pagesDone: 1, dropped: { no_identifier: 1 } });
    expect((await store.exportRuns.list({ destinationId: d.id })).items.map((r) => r.id)).toEqual([run.id]);

    const rows = [
      { profileKey: 'a', fingerprint: randomBytes(16), cells: ['a', 'f'.repeat(64), ['LDU'], 1, 1000] },
      { profileKey: 'b', fingerprint: randomBytes(16), cells: ['b', '', [], 0, 0] },
    ];
    expect(await store.snapshots.recordPossiblySent('4242', run.id, rows)).toBe(2);
    expect(await store.snapshots.commitRun('4242', run.id)).toEqual({ committed: 2, removed: 0 });
    expect((await store.snapshots.read('4242', rows)).map((e) => e.cells)).toEqual(rows.map((r) => r.cells));

    const until = new Date(Date.now() + 60_000);
    await store.adAccountBlocks.block('act_42', until, 'throttled');
    expect(await store.adAccountBlocks.blockedUntil('act_42')).toEqual(until);

    expect(await store.destinations.delete(d.id)).toBe(true);
    expect(await store.credentials.describe(d.id)).toBeNull();
    expect((await store.snapshots.count('4242')).total).toBe(0);
  });
});
