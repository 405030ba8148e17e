import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_SHA256 } from '../../src/sandbox/rules/payload.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import {
  admin,
  createAudience,
  expectGraphError,
  graph,
  h,
  members as membersOf,
  requestLog,
  testClock,
  withSandbox,
} from './graph-call.js';

const SCHEMA = ['EMAIL', 'PHONE', 'EXTERN_ID'];
const row = (i: number) => [h(`e${i}`), h(`p${i}`), `x${i}`];
const clock = testClock();
let sb: Sandbox;

beforeAll(async () => {
  sb = await withSandbox({ config: { sessionWindowMs: 90 * 60_000 }, now: clock.now });
});
afterAll(() => sb.close());

const members = (aud: string) => membersOf(sb, aud);

describe('users add and remove', () => {
  it('adds valid rows, counts invalid ones per row, and stores exactly the valid rows', async () => {
    const aud = await createAudience(sb);
    const res = await graph(sb, 'POST', `${aud}/users`, {
      body: {
        payload: {
          schema: SCHEMA,
          is_raw: true,
          data: [
            row(1),
            row(2),
            ['plain@example.com', h('p3'), 'x3'], // plaintext in a hashed column
            [EMPTY_SHA256, '', ''], // hash of the empty string
            [h('e5').toUpperCase(), '', ''], // uppercase hex
            ['', '', ''], // nothing identifying
            [h('e7'), '', ''],
          ],
        },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      audience_id: aud,
      num_received: 7,
      num_invalid_entries: 4,
      invalid_entry_samples: {},
    });
    expect(typeof res.body.session_id).toBe('string');
    const m = await members(aud);
    expect(m.schema).toEqual(SCHEMA);
    expect(m.total).toBe(3);
    expect(m.members).toEqual([row(1), row(2), [h('e7'), '', '']]);
  });

  it('removes exactly the matching rows (DELETE with a JSON body) and ignores absent ones', async () => {
    const aud = await createAudience(sb);
    await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1), row(2), row(3)] } } });
    const res = await graph(sb, 'DELETE', `${aud}/users`, {
      body: { payload: { schema: SCHEMA, data: [row(2), [h('e3'), '', 'x3'], row(9)] } },
    });
    expect(res.status).toBe(200);
    expect(res.body.num_received).toBe(3);
    expect((await members(aud)).members).toEqual([row(1), row(3)]);
  });

  it('accepts form encoding with JSON-string fields and POST with method=DELETE', async () => {
    const aud = await createAudience(sb);
    const add = await graph(sb, 'POST', `${aud}/users`, {
      form: { payload: JSON.stringify({ schema: SCHEMA, data: [row(1), row(2)] }) },
    });
    expect(add.status).toBe(200);
    const del = await graph(sb, 'POST', `${aud}/users`, {
      form: { method: 'DELETE', payload: JSON.stringify({ schema: SCHEMA, data: [row(1)] }) },
    });
    expect(del.status).toBe(200);
    expect((await members(aud)).members).toEqual([row(2)]);
  });

  it('refuses a payload in the query string', async () => {
    const aud = await createAudience(sb);
    const payload = encodeURIComponent(JSON.stringify({ schema: SCHEMA, data: [row(1)] }));
    expectGraphError(await graph(sb, 'POST', `${aud}/users?payload=${payload}`), 100);
  });

  it.each([
    ['no payload', {}],
    ['unknown key', { payload: { schema: ['EMAIL', 'SHOE_SIZE'], data: [[h(1), '1']] } }],
    ['duplicate key', { payload: { schema: ['EMAIL', 'EMAIL'], data: [[h(1), h(2)]] } }],
    ['empty data', { payload: { schema: SCHEMA, data: [] } }],
    ['row too narrow', { payload: { schema: SCHEMA, data: [row(1), [h(1), h(2)]] } }],
    ['row not a list', { payload: { schema: SCHEMA, data: ['abc'] } }],
    ['is_raw not boolean', { payload: { schema: SCHEMA, is_raw: 'yes', data: [row(1)] } }],
    ['unknown payload field', { payload: { schema: SCHEMA, data: [row(1)], extra: 1 } }],
  ])('refuses %s with 100', async (_label, body) => {
    const aud = await createAudience(sb);
    expectGraphError(await graph(sb, 'POST', `${aud}/users`, { body }), 100);
  });

  it('accepts 10,000 rows and refuses 10,001', async () => {
    const aud = await createAudience(sb);
    const rows = Array.from({ length: 10_001 }, (_, i) => row(i));
    expectGraphError(
      await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: rows } } }),
      100,
    );
    const ok = await graph(sb, 'POST', `${aud}/users`, {
      body: { payload: { schema: SCHEMA, data: rows.slice(0, 10_000) } },
    });
    expect(ok.body).toMatchObject({ num_received: 10_000, num_invalid_entries: 0 });
    expect((await members(aud)).total).toBe(10_000);
  });

  it('accepts a body of 10,000 full rows of the canonical schema', async () => {
    const aud = await createAudience(sb);
    const schema = [
      'EXTERN_ID',
      'EMAIL',
      'PHONE',
      'GEN',
      'DOBY',
      'DOBM',
      'DOBD',
      'LN',
      'FN',
      'FI',
      'CT',
      'ST',
      'ZIP',
      'COUNTRY',
      'MADID',
      'DATA_PROCESSING_OPTIONS',
      'DATA_PROCESSING_OPTIONS_COUNTRY',
      'DATA_PROCESSING_OPTIONS_STATE',
    ];
    const data = Array.from({ length: 10_000 }, (_, i) => [
      `customer-${i}`,
      ...Array.from({ length: 13 }, (_, c) => h(`${i}-${c}`)),
      `aaaaaaaa-bbbb-cccc-dddd-${String(i).padStart(12, '0')}`,
      ['LDU'],
      1,
      1000,
    ]);
    const res = await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema, is_raw: true, data } } });
    expect(res.status).toBe(200);
    expect(res.body.num_invalid_entries).toBe(0);
    const m = await admin(sb, 'GET', `audiences/${aud}/members?limit=1`);
    expect(m.members[0]).toEqual(data[0]);
  });

  it('fixes the schema at the first upload (2650 for another schema, single-key or multi-key)', async () => {
    const aud = await createAudience(sb);
    expect(
      (await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1)] } } })).status,
    ).toBe(200);
    expectGraphError(
      await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: ['EMAIL'], data: [[h(1)]] } } }),
      2650,
    );
    const single = await graph(sb, 'POST', `${aud}/users`, {
      body: { payload: { schema: 'EMAIL_SHA256', data: [h(1)] } },
    });
    expectGraphError(single, 2650);
    expect(single.body.error.message).toContain('MULTI_HASHES');
  });

  it('takes sessions: cumulative num_received, any batch order, nothing after last_batch_flag', async () => {
    const aud = await createAudience(sb);
    const send = (batch_seq: number, data: string[][], last = false) =>
      graph(sb, 'POST', `${aud}/users`, {
        body: {
          payload: { schema: SCHEMA, data },
          session: { session_id: '9007199254740993', batch_seq, last_batch_flag: last, estimated_num_total: 3 },
        },
      });
    const b2 = await send(2, [row(2)]);
    expect(b2.body).toMatchObject({ session_id: '9007199254740993', num_received: 1 });
    const b1 = await send(1, [row(1)]);
    expect(b1.body.num_received).toBe(2);
    expect((await send(3, [row(3)], true)).body.num_received).toBe(3);
    expectGraphError(await send(4, [row(4)]), 2650, 1870159);
    expect((await members(aud)).total).toBe(3);
  });

  it('refuses malformed sessions', async () => {
    const aud = await createAudience(sb);
    for (const session of [
      { session_id: -1, batch_seq: 1 },
      { session_id: 1.5, batch_seq: 1 },
      { session_id: '99999999999999999999', batch_seq: 1 },
      { session_id: 7, batch_seq: 0 },
      { session_id: 7 },
      { session_id: 7, batch_seq: 1, last_batch_flag: 'maybe' },
      { session_id: 7, batch_seq: 1, colour: 'blue' },
    ]) {
      expectGraphError(
        await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1)] }, session } }),
        100,
      );
    }
  });

  it('closes a session 90 minutes after its first batch', async () => {
    const aud = await createAudience(sb);
    const send = (batch_seq: number) =>
      graph(sb, 'POST', `${aud}/users`, {
        body: { payload: { schema: SCHEMA, data: [row(batch_seq)] }, session: { session_id: 4242, batch_seq } },
      });
    expect((await send(1)).status).toBe(200);
    clock.advance(89 * 60_000);
    expect((await send(2)).status).toBe(200);
    clock.advance(2 * 60_000);
    expectGraphError(await send(3), 2650, 1870158);
  });
});

describe('usersreplace', () => {
  const replace = (aud: string, session: Record<string, unknown>, data: string[][]) =>
    graph(sb, 'POST', `${aud}/usersreplace`, { body: { payload: { schema: SCHEMA, data }, session } });

  it('makes membership exactly the replace set on last_batch_flag, with 414 while it runs', async () => {
    const aud = await createAudience(sb);
    await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1), row(2)] } } });
    const b1 = await replace(aud, { session_id: 11, batch_seq: 1, estimated_num_total: 3 }, [row(2), row(3)]);
    expect(b1.body).toMatchObject({ audience_id: aud, session_id: '11', num_received: 2, num_invalid_entries: 0 });
    const during = await graph(sb, 'GET', `${aud}?fields=operation_status`);
    expect(during.body.operation_status.code).toBe(414);
    // Old members are still served while the replace runs (UNCONFIRMED at Meta; the sandbox keeps them).
    expect((await members(aud)).members).toEqual([row(1), row(2)]);
    const b2 = await replace(aud, { session_id: 11, batch_seq: 2, last_batch_flag: true }, [row(4)]);
    expect(b2.body.num_received).toBe(3);
    expect((await members(aud)).members).toEqual([row(2), row(3), row(4)]);
    expect((await graph(sb, 'GET', `${aud}?fields=operation_status`)).body.operation_status.code).toBe(200);
    expectGraphError(await replace(aud, { session_id: 11, batch_seq: 3 }, [row(5)]), 2650, 1870159);
  });

  it('requires a session and batch 1 first', async () => {
    const aud = await createAudience(sb);
    expectGraphError(
      await graph(sb, 'POST', `${aud}/usersreplace`, { body: { payload: { schema: SCHEMA, data: [row(1)] } } }),
      100,
    );
    expectGraphError(await replace(aud, { session_id: 12, batch_seq: 2 }, [row(1)]), 2650, 1870147);
  });

  it('allows one replace at a time and no /users calls during it', async () => {
    const aud = await createAudience(sb);
    expect((await replace(aud, { session_id: 13, batch_seq: 1 }, [row(1)])).status).toBe(200);
    expectGraphError(await replace(aud, { session_id: 14, batch_seq: 1 }, [row(1)]), 2650, 1870145);
    expectGraphError(
      await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1)] } } }),
      2650,
      1870145,
    );
    expectGraphError(
      await graph(sb, 'DELETE', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1)] } } }),
      2650,
      1870145,
    );
  });

  it('restarts on a resent batch 1 and records the restart', async () => {
    const aud = await createAudience(sb);
    const since = (await requestLog(sb)).at(-1)!.seq;
    await replace(aud, { session_id: 15, batch_seq: 1 }, [row(1)]);
    await replace(aud, { session_id: 15, batch_seq: 2 }, [row(2)]);
    const again = await replace(aud, { session_id: 15, batch_seq: 1 }, [row(3)]);
    expect(again.body.num_received).toBe(1);
    await replace(aud, { session_id: 15, batch_seq: 2, last_batch_flag: true }, [row(4)]);
    expect((await members(aud)).members).toEqual([row(3), row(4)]);
    const requests = await requestLog(sb, since);
    const mine = requests.filter((r) => r.audienceId === aud);
    expect(mine.map((r) => [r.batchSeq, r.restarted ?? false])).toEqual([
      [1, false],
      [2, false],
      [1, true],
      [2, false],
    ]);
    // Same batch number, different rows: visible through the data hash, never the rows.
    expect(mine[0]!.dataHash).not.toBe(mine[2]!.dataHash);
    expect(mine[0]).toMatchObject({ sessionId: '15', rows: 1, status: 200, path: `/v25.0/${aud}/usersreplace` });
    expect(JSON.stringify(requests)).not.toContain(sb.fixtures.systemUserToken);
  });

  it('times out 90 minutes after batch 1, leaving what arrived (1870158)', async () => {
    const aud = await createAudience(sb);
    await graph(sb, 'POST', `${aud}/users`, { body: { payload: { schema: SCHEMA, data: [row(1)] } } });
    await replace(aud, { session_id: 16, batch_seq: 1 }, [row(2)]);
    clock.advance(91 * 60_000);
    expectGraphError(await replace(aud, { session_id: 16, batch_seq: 2 }, [row(3)]), 2650, 1870158);
    expect((await members(aud)).members).toEqual([row(2)]);
    expect((await graph(sb, 'GET', `${aud}?fields=operation_status`)).body.operation_status.code).toBe(200);
    const sessions = await graph(sb, 'GET', `${aud}/sessions?session_id=16`);
    expect(sessions.body.data[0]).toMatchObject({ session_id: '16', num_received: '1', stage: 'timed_out' });
  });
});
