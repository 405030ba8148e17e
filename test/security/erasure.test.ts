import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAPPING } from '../../src/demo/demo-profiles.js';
import { hashCell, normalize } from '../../src/domain/normalize.js';
import { defaultSandboxConfig } from '../../src/sandbox/config.js';
import type { Destination } from '../../src/store/index.js';
import { decodeCells } from '../../src/store/snapshot-codec.js';
import { operatorAuth } from '../support/api-harness.js';
import { openSchemaDb } from '../support/context.js';
import { createDestination } from '../support/export-env.js';
import { runExport } from '../support/run-export.js';
import { auth, startSecurityStack, type SecurityStack } from './stack.js';

const EXTERN_ID = 0;
const EMAIL = 1;
const LN = 6;
const FN = 7;
const ZIP = 12;
const MADID = 14;

interface Profile {
  key: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  zip: string | null;
  country: string | null;
}

interface ErasureBody {
  audiencesSearched: number;
  snapshotRowsMatched: number;
  rowsSent: number;
  snapshotRowsDeleted: number;
  adAccounts: { adAccountId: string; snapshotRowsMatched: number }[];
  unreachedAdAccounts: string[];
  suppressionEntriesAdded: number;
}

const accountId = () => `2${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`;

/**
 * Erasure through the API against the sandbox (#25): by profile key, EXTERN_ID, MADID, name+ZIP and e-mail, in every
 * ad account we export to, and never added back by a later export or refresh.
 */
describe('erasure requests', () => {
  let s: SecurityStack;
  const accounts = [accountId(), accountId()];
  let a: Destination;
  let b: Destination;
  const audiences: string[] = [];

  beforeAll(async () => {
    const template = defaultSandboxConfig().adAccounts[0]!;
    s = await startSecurityStack('sec_erase', {
      profiles: 200,
      // Its own schema: the people it erases are left out of every later export of its database.
      db: await openSchemaDb('sec_erase'),
      sandbox: { config: { adAccounts: accounts.map((id, i) => ({ ...template, id, name: `Erasure ${i}` })) } },
    });
    const mapping = { ...DEMO_MAPPING, EXTERN_ID: { attribute: 'key' } };
    // Two ad accounts; B sends the profile key as MADID too.
    a = await createDestination(s.env, { config: { mode: 'mirror', mapping } });
    b = await createDestination(s.env, {
      adAccountId: `act_${accounts[1]}`,
      config: { mode: 'mirror', mapping: { ...mapping, MADID: { attribute: 'key' } } },
    });
    for (const d of [a, b]) {
      const { result } = await runExport(s.temporal.client, s.taskQueue, d, ['all'], 'mirror');
      expect(result.status).toBe('completed');
      audiences.push(result.audienceId);
      // The run records the audience it created on the destination.
    }
    a = await s.env.store.destinations.get(a.id);
    b = await s.env.store.destinations.get(b.id);
  });
  afterAll(async () => {
    await s?.close();
  });

  async function members(audienceId: string): Promise<unknown[][]> {
    const res = await fetch(`${s.env.sandbox.url}/__sandbox/audiences/${audienceId}/members?limit=10000`);
    return ((await res.json()) as { members: unknown[][] }).members;
  }
  /** Keys of the audience's snapshot rows; `sentOnly` leaves out the members a run examined and did not send. */
  async function snapshotKeys(audienceId: string, sentOnly = false): Promise<string[]> {
    const rows = await s.env.db.query<{ profile_key: string }>(
      `SELECT profile_key FROM audience_snapshots WHERE audience_id = $1 ${sentOnly ? "AND state <> 'dropped'" : ''}`,
      [audienceId],
    );
    return rows.map((r) => r.profile_key);
  }
  const erase = (payload: Record<string, unknown>, headers = auth) =>
    s.app.inject({ method: 'POST', url: '/erasure-requests', headers, payload });
  /** The sandbox rows whose EXTERN_ID is the profile key (every row we sent carries it). */
  const rowsOf = async (audienceId: string, key: string) =>
    (await members(audienceId)).filter((m) => m[EXTERN_ID] === key);
  async function sentKeys(): Promise<string[]> {
    const [first] = audiences;
    return (await members(first!)).map((m) => String(m[EXTERN_ID])).sort();
  }

  it('refuses non-admin keys and unusable identifiers, naming the field', async () => {
    expect((await erase({ profileKey: 'cust-0000000001' }, operatorAuth)).statusCode).toBe(403);
    for (const [payload, field] of [
      [{ email: 'not-an-address' }, 'body.email'],
      [{ madid: 'has spaces in it' }, 'body.madid'],
      [{ externId: '   ' }, 'body.externId'],
      [{ firstName: 'Ann', lastName: 'Lee' }, 'body.zip'],
      [{ firstName: '123', lastName: 'Lee', zip: '02139' }, 'body.firstName'],
      [{ profileKey: '' }, 'body.profileKey'],
      [{}, 'body.email'],
      [{ profileKey: 'k', adAccountId: a.adAccountId, destinationId: a.id }, 'body.adAccountId'],
    ] as const) {
      const res = await erase(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json<{ errors: { field: string }[] }>().errors.map((e) => e.field)).toContain(field);
      expect(res.body).not.toContain('not-an-address');
    }
    // Refused requests list nobody.
    expect(await s.env.db.query('SELECT 1 FROM erasure_suppressions')).toEqual([]);
  });

  it('erases by profile key in every ad account and our snapshots; a refresh and a new export do not add back', async () => {
    const [victim] = await sentKeys();
    for (const audienceId of audiences) {
      expect(await rowsOf(audienceId, victim!)).toHaveLength(1);
      expect(await snapshotKeys(audienceId)).toContain(victim);
    }
    const res = await erase({ profileKey: victim });
    expect(res.statusCode).toBe(202);
    const body = res.json<ErasureBody>();
    expect(res.body).not.toContain(victim);
    expect(body.adAccounts.map((x) => x.adAccountId).sort()).toEqual([a.adAccountId, b.adAccountId].sort());
    expect(body.unreachedAdAccounts).toEqual([]);
    expect(body.snapshotRowsMatched).toBe(2);
    expect(body.snapshotRowsDeleted).toBe(2);
    expect(body.suppressionEntriesAdded).toBe(1);
    for (const audienceId of audiences) {
      expect(await rowsOf(audienceId, victim!)).toEqual([]);
      expect(await snapshotKeys(audienceId)).not.toContain(victim);
    }
    // Only digests are kept.
    const listed = await s.env.db.query<{ kind: string; hash: Uint8Array }>(
      'SELECT kind, hash FROM erasure_suppressions',
    );
    expect(listed.map((r) => r.kind)).toEqual(['profile_key']);
    expect(Buffer.from(listed[0]!.hash).toString('utf8')).not.toContain(victim);

    // The person is still in the source: a mirror refresh (which examines members the audience lacks) leaves them out.
    const refresh = (await runExport(s.temporal.client, s.taskQueue, a, ['all'], 'mirror')).result;
    expect(refresh.status).toBe('completed');
    expect(refresh.progress.droppedByReason.erased).toBe(1);
    expect(await rowsOf(audiences[0]!, victim!)).toEqual([]);
    const report = await s.app.inject({ method: 'GET', url: `/exports/${refresh.runId}`, headers: auth });
    expect(report.json<{ dropped: Record<string, number> }>().dropped).toMatchObject({ erased: 1 });
    // Nor does an export to a new audience, in add mode.
    const c = await createDestination(s.env, {
      config: { mode: 'add', mapping: { ...DEMO_MAPPING, EXTERN_ID: { attribute: 'key' } } },
    });
    const added = (await runExport(s.temporal.client, s.taskQueue, c, ['all'], 'add')).result;
    expect(added.progress.droppedByReason.erased).toBe(1);
    expect(await rowsOf(added.audienceId, victim!)).toEqual([]);
    expect((await members(added.audienceId)).length).toBe((await members(audiences[0]!)).length);
  });

  it('erases by EXTERN_ID, MADID, name+ZIP and e-mail, and none comes back', async () => {
    const keys = await sentKeys();
    const [byExtern, byMadid] = keys.slice(1, 3);
    const profiles = await s.env.db.query<Profile>(
      `SELECT key, email, first_name, last_name, zip, country FROM ${s.env.tables.profilesTable} WHERE key = ANY($1)
       ORDER BY key`,
      [keys.slice(3)],
    );
    const usable = (v: string | null) => v !== null && /^[A-Za-z]+$/.test(v.trim());
    const named = profiles.find((p) => usable(p.first_name) && usable(p.last_name) && /^\d{5}$/.test(p.zip ?? ''))!;
    const mailed = profiles.find((p) => p.key !== named.key && p.email && normalize('EMAIL', p.email) !== '')!;
    const byName = named.key;

    // EXTERN_ID is in both accounts' rows; MADID only in B's: the person's rows go from both all the same.
    for (const [payload, key] of [
      [{ externId: byExtern }, byExtern],
      [{ madid: byMadid }, byMadid],
    ] as const) {
      // Every audience that has the person (A, B and the add-only one of A's account).
      const held = await s.env.db.query('SELECT 1 FROM audience_snapshots WHERE profile_key = $1', [key]);
      expect(held.length).toBe(3);
      const res = await erase(payload);
      expect(res.statusCode).toBe(202);
      expect(res.json<ErasureBody>().snapshotRowsDeleted).toBe(3);
    }
    // Name and ZIP as an operator types them, in the person's country.
    const nameRes = await erase({
      firstName: ` ${named.first_name!.toUpperCase()}`,
      lastName: named.last_name!,
      zip: named.zip!,
      country: named.country ?? 'US',
    });
    expect(nameRes.statusCode).toBe(202);
    expect(nameRes.json<ErasureBody>().snapshotRowsMatched).toBeGreaterThanOrEqual(2);
    expect(nameRes.body).not.toContain(named.last_name!);
    const emailRes = await erase({ email: mailed.email!, adAccountId: b.adAccountId });
    expect(emailRes.statusCode).toBe(202);
    expect(emailRes.json<ErasureBody>().adAccounts.map((x) => x.adAccountId)).toEqual([b.adAccountId]);

    const emailHash = hashCell('EMAIL', normalize('EMAIL', mailed.email));
    const fnHash = hashCell('FN', normalize('FN', named.first_name));
    const lnHash = hashCell('LN', normalize('LN', named.last_name));
    // After a refresh the snapshot holds the erased as dropped (no cells: what tells the next refresh they are settled).
    const gone = async (sentOnly = false) => {
      for (const audienceId of audiences) {
        const rows = await members(audienceId);
        expect(rows.filter((m) => m[EXTERN_ID] === byExtern || m[MADID] === byMadid)).toEqual([]);
        expect(rows.filter((m) => m[FN] === fnHash && m[LN] === lnHash && m[ZIP] !== '')).toEqual([]);
        expect(await snapshotKeys(audienceId, sentOnly)).not.toContain(byExtern);
        expect(await snapshotKeys(audienceId, sentOnly)).not.toContain(byMadid);
        expect(await snapshotKeys(audienceId, sentOnly)).not.toContain(byName);
      }
      expect((await members(audiences[1]!)).filter((m) => m[EMAIL] === emailHash)).toEqual([]);
    };
    await gone();
    const snapshot = await s.env.db.query<{ cells: Uint8Array }>(
      "SELECT cells FROM audience_snapshots WHERE audience_id = $1 AND state <> 'dropped'",
      [audiences[1]],
    );
    expect(snapshot.map((r) => decodeCells(r.cells)[EMAIL])).not.toContain(emailHash);

    // Every one of them is left out of the next refresh of each audience, as erased. The source's change log narrows a
    // refresh to profiles that changed: these are touched (as a CRM's update would) so the refresh examines them.
    await s.env.db.query(`UPDATE ${s.env.tables.profilesTable} SET email = email WHERE key = ANY($1)`, [
      [byExtern, byMadid, byName, mailed.key],
    ]);
    for (const d of [a, b]) {
      const { result } = await runExport(s.temporal.client, s.taskQueue, d, ['all'], 'mirror');
      expect(result.status).toBe('completed');
      expect(result.progress.droppedByReason.erased ?? 0).toBeGreaterThanOrEqual(d === b ? 4 : 3);
    }
    await gone(true);
    // The list holds digests of the identifiers only, never one of them.
    const listed = await s.env.db.query<{ kind: string; hex: string }>(
      "SELECT kind, encode(hash, 'hex') AS hex FROM erasure_suppressions",
    );
    expect(new Set(listed.map((r) => r.kind))).toEqual(
      new Set(['profile_key', 'EXTERN_ID', 'MADID', 'NAME_ZIP', 'EMAIL']),
    );
    const text = JSON.stringify(listed);
    for (const value of [byExtern, byMadid, mailed.email, named.last_name, lnHash]) expect(text).not.toContain(value);
  });
});
