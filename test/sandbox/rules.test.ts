import { describe, expect, it } from 'vitest';
import { CellInterner } from '../../src/sandbox/cell-interner.js';
import { GraphError } from '../../src/sandbox/errors.js';
import { Membership } from '../../src/sandbox/membership.js';
import { checkAppSecretProof, hmacHex } from '../../src/sandbox/rules/appsecret-proof.js';
import { deliveryStatus, sizeBounds } from '../../src/sandbox/rules/audience-size.js';
import { selectFields } from '../../src/sandbox/rules/fields.js';
import { CellKind, cellProblem, checkPayload, EMPTY_SHA256, rowCells } from '../../src/sandbox/rules/payload.js';
import { decideBatch, parseSession, SessionState, type UploadSession } from '../../src/sandbox/rules/session.js';
import { meterCall, newMeter, usageEntry } from '../../src/sandbox/rules/throttle.js';
import { checkVersion } from '../../src/sandbox/rules/version.js';
import { h } from './graph-call.js';

function graphCode(fn: () => unknown): [number, number | undefined] | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof GraphError) return [err.code, err.options.subcode];
    throw err;
  }
}

describe('cells', () => {
  it.each([
    [CellKind.Hashed, 'EMAIL', h(1), null],
    [CellKind.Hashed, 'EMAIL', '', null],
    [CellKind.Hashed, 'EMAIL', EMPTY_SHA256, 'hash of the empty string'],
    [CellKind.Hashed, 'EMAIL', 'mary@example.com', 'not a lowercase SHA-256 hex digest'],
    [CellKind.Hashed, 'EMAIL', h(1).toUpperCase(), 'not a lowercase SHA-256 hex digest'],
    [CellKind.Hashed, 'EMAIL', 5, 'not a lowercase SHA-256 hex digest'],
    [CellKind.Plain, 'MADID', 'ab12cd-e345-fg67', null],
    [CellKind.Plain, 'MADID', 'AB12CD-E345-FG67', 'MADID must be lowercase'],
    [CellKind.Plain, 'MADID', h(2), 'MADID must not be hashed'],
    [CellKind.Plain, 'EXTERN_ID', 42, 'not a string'],
    [CellKind.Number, 'LOOKALIKE_VALUE', 44.5, null],
    [CellKind.Number, 'LOOKALIKE_VALUE', -1, 'not a number >= 0'],
    [CellKind.Number, 'DATA_PROCESSING_OPTIONS_STATE', 1000, null],
    [CellKind.Number, 'DATA_PROCESSING_OPTIONS_STATE', 1.5, 'not an integer'],
    [CellKind.Options, 'DATA_PROCESSING_OPTIONS', ['LDU'], null],
    [CellKind.Options, 'DATA_PROCESSING_OPTIONS', ['GDPR'], 'options must be [] or ["LDU"]'],
  ])('%s %s %j -> %s', (kind, key, cell, problem) => {
    expect(cellProblem(kind, key, cell)).toBe(problem);
  });

  it('counts a row invalid when any cell is invalid, and stores only valid rows', () => {
    const r = checkPayload(
      {
        schema: ['EMAIL', 'MADID'],
        data: [
          [h(1), 'abc'],
          [h(2), 'ABC'],
          ['', ''],
        ],
      },
      10,
    );
    expect(r).toMatchObject({ received: 3, invalid: 2 });
    expect(rowCells(r.rows, r.schema)).toEqual([[h(1), '"abc"']]);
  });

  it('refuses whole requests for shape errors', () => {
    expect(graphCode(() => checkPayload({ schema: ['EMAIL'], data: [[h(1)], [h(2)]] }, 1))).toEqual([100, undefined]);
    expect(graphCode(() => checkPayload({ schema: ['LOOKALIKE_VALUE'], data: [[1]] }, 10))).toEqual([100, undefined]);
    expect(graphCode(() => checkPayload({ schema: 'EMAIL_SHA256', data: [h(1)] }, 10))).toBe('ok');
  });
});

describe('sessions', () => {
  const open = (over: Partial<UploadSession> = {}): UploadSession => ({
    id: '1',
    audienceId: 'a',
    kind: 'replace',
    startedAtMs: 0,
    state: SessionState.Open,
    numReceived: 0,
    numInvalid: 0,
    restarts: 0,
    ...over,
  });
  it('parses int64 ids given as numbers or strings', () => {
    expect(parseSession({ session_id: '9223372036854775807', batch_seq: 1 }).id).toBe('9223372036854775807');
    expect(graphCode(() => parseSession({ session_id: '9223372036854775808', batch_seq: 1 }))).toEqual([
      100,
      undefined,
    ]);
    expect(graphCode(() => parseSession({ session_id: 2 ** 60, batch_seq: 1 }))).toEqual([100, undefined]);
  });
  it('decides start, continue, restart or refusal', () => {
    const p = (batchSeq: number) => ({ id: '1', batchSeq, last: false });
    expect(decideBatch(undefined, p(1), 'replace', 'a')).toBe('start');
    expect(graphCode(() => decideBatch(undefined, p(2), 'replace', 'a'))).toEqual([2650, 1870147]);
    expect(decideBatch(undefined, p(2), 'add', 'a')).toBe('start');
    expect(decideBatch(open(), p(1), 'replace', 'a')).toBe('restart');
    expect(decideBatch(open(), p(3), 'replace', 'a')).toBe('continue');
    expect(decideBatch(open({ kind: 'add' }), p(1), 'add', 'a')).toBe('continue');
    expect(graphCode(() => decideBatch(open({ state: 'finished' }), p(2), 'replace', 'a'))).toEqual([2650, 1870159]);
    expect(graphCode(() => decideBatch(open({ state: 'timed_out' }), p(2), 'replace', 'a'))).toEqual([2650, 1870158]);
    expect(graphCode(() => decideBatch(open(), p(2), 'replace', 'b'))).toEqual([100, undefined]);
  });
});

describe('throttle', () => {
  it('blocks over budget and extends the block on calls during it', () => {
    const settings = { callsPerWindow: 2, windowMs: 60_000, blockMs: 10_000 };
    const m = newMeter(0);
    expect([meterCall(m, settings, 0), meterCall(m, settings, 1), meterCall(m, settings, 2)]).toEqual([
      false,
      false,
      true,
    ]);
    expect(usageEntry(m, 2, 2)).toMatchObject({ call_count: 100, estimated_time_to_regain_access: 1 });
    expect(meterCall(m, settings, 9_000)).toBe(true);
    expect(m.blockedUntilMs).toBe(19_000);
    expect(meterCall(m, settings, 19_000)).toBe(false);
  });
});

describe('audience size', () => {
  it.each([
    [0, 0, 0],
    [42, 42, 49],
    [1234, 1200, 1500],
    [987_654, 980_000, 1_200_000],
  ])('%i members -> [%i, %i]', (n, lower, upper) => {
    expect(sizeBounds(n)).toEqual({ lower, upper });
    expect(lower).toBeLessThanOrEqual(n);
    expect(upper).toBeGreaterThanOrEqual(n);
  });
  it('is deliverable from the minimum size', () => {
    expect(deliveryStatus(99, 100).code).toBe(300);
    expect(deliveryStatus(100, 100).code).toBe(200);
  });
});

describe('version, proof and fields', () => {
  it('checks versions', () => {
    expect(checkVersion('v24.0', 'v24.0', 'v27.0')).toBe('v24.0');
    expect(graphCode(() => checkVersion('v23.0', 'v24.0', 'v27.0'))).toEqual([2635, undefined]);
    expect(graphCode(() => checkVersion('me', 'v24.0', 'v27.0'))).toEqual([100, undefined]);
  });
  it('checks the time-stamped proof within 5 minutes either side', () => {
    const base = { token: 't0k3n', appSecret: 'secret', nowMs: 1_000_000_000, acceptClassic: false };
    const at = (s: number) => ({ ...base, time: String(s), proof: hmacHex('secret', `t0k3n|${s}`) });
    expect(graphCode(() => checkAppSecretProof(at(1_000_000)))).toBe('ok');
    expect(graphCode(() => checkAppSecretProof(at(1_000_000 - 300)))).toBe('ok');
    expect(graphCode(() => checkAppSecretProof(at(1_000_000 - 301)))).toEqual([100, undefined]);
    expect(graphCode(() => checkAppSecretProof(at(1_000_000 + 301)))).toEqual([100, undefined]);
    const classic = { ...base, time: undefined, proof: hmacHex('secret', 't0k3n') };
    expect(graphCode(() => checkAppSecretProof(classic))).toEqual([100, undefined]);
    expect(graphCode(() => checkAppSecretProof({ ...classic, acceptClassic: true }))).toBe('ok');
  });
  it('selects fields and refuses unknown ones', () => {
    expect(selectFields('name,business{id,name}', ['id', 'name', 'business'], 'AdAccount', ['id'])).toEqual([
      'id',
      'name',
      'business',
    ]);
    expect(graphCode(() => selectFields('nope', ['id'], 'AdAccount', ['id']))).toEqual([100, undefined]);
  });
});

describe('membership store', () => {
  it('is a set of exact rows that survives growth, removal and compaction', () => {
    const interner = new CellInterner();
    const m = new Membership(3, interner, [true, true, false]);
    const row = (i: number) => [h(`a${i}`), i % 2 ? '' : h(`b${i % 100}`), i % 3 ? '' : JSON.stringify(`x${i}`)];
    for (let i = 0; i < 40_000; i++) expect(m.add(row(i))).toBe(true);
    expect(m.add(row(7))).toBe(false);
    expect(m.size).toBe(40_000);
    const bytesFull = m.bytes;
    for (let i = 0; i < 30_000; i++) expect(m.remove(row(i))).toBe(true);
    expect(m.remove(row(0))).toBe(false);
    expect(m.remove([h('never'), '', ''])).toBe(false);
    expect(m.size).toBe(10_000);
    // Enough dead records to compact the arena: the rows below are read from the compacted copy.
    expect(m.bytes).toBeLessThan(bytesFull);
    expect(m.has(row(30_000))).toBe(true);
    expect(m.has(row(29_999))).toBe(false);
    const rows = [...m.rows()];
    expect(rows.length).toBe(10_000);
    expect(rows[0]).toEqual(row(30_000));
    expect(rows.at(-1)).toEqual(row(39_999));
    expect([...m.rows(9_999)]).toEqual([row(39_999)]);
    // Values shared across rows are stored once (40,000 a-cells, 50 even b-cells, one x-cell per third row).
    expect(interner.size).toBe(40_000 + 50 + Math.ceil(40_000 / 3));
  });
});
