import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/store/db.js';
import { changeSegmentShare, DEMO_SOURCE_CONFIG, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { FrozenRunNotFoundError } from '../../src/sources/errors.js';
import { createProfileSource } from '../../src/sources/profile-source.js';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ae-sources-pglite-'));
  db = await openDb({ dataDir: dir });
});

afterAll(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

it('seeds, freezes and pages on embedded PostgreSQL (PGlite)', async () => {
  expect(db.kind).toBe('pglite');
  const seeded = await seedDemoProfiles(db, { profiles: 600, seed: 11 });
  expect(seeded.profiles).toBe(600);
  expect(seeded.members.all).toBe(600);

  const source = await createProfileSource(db, DEMO_SOURCE_CONFIG);
  const runId = randomUUID();
  const { rowCount } = await source.freeze({ runId, segments: ['all'], attributes: ['email', 'date_of_birth'] });
  expect(rowCount).toBe(600);
  const page = await source.readPage({ runId, page: 1, pageSize: 250 });
  expect(page.map((r) => r.rowNumber)).toEqual(Array.from({ length: 250 }, (_, i) => 251 + i));
  expect(page[0]!.key).toBe('cust-0000000251');
  expect(page[0]!.fingerprint).toBeInstanceOf(Buffer);
  expect(page[0]!.fingerprint).toHaveLength(16);

  await changeSegmentShare(db, { segment: 'all', share: 0.1, seed: 1 });
  expect(await source.readPage({ runId, page: 1, pageSize: 250 })).toEqual(page);

  expect(await source.sweepFrozen([])).toEqual([runId]);
  await expect(source.readPage({ runId, page: 0, pageSize: 10 })).rejects.toBeInstanceOf(FrozenRunNotFoundError);
});
