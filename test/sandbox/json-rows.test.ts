import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GraphError } from '../../src/sandbox/errors.js';
import { parseJsonBody } from '../../src/sandbox/json-body.js';
import { ScannedRows } from '../../src/sandbox/json-rows.js';
import { checkPayload, EMPTY_SHA256, rowCells } from '../../src/sandbox/rules/payload.js';
import { randomInt, seededRandom } from '../support/seeded-random.js';
import { h } from './graph-call.js';

const SCHEMA = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'MADID',
  'LOOKALIKE_VALUE',
  'DATA_PROCESSING_OPTIONS',
  'DATA_PROCESSING_OPTIONS_STATE',
];
const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'));
const dataOf = (body: unknown) => (body as { payload: { data: unknown } }).payload.data;

/** checkPayload's answer, or the Graph error it throws. */
function outcome(payload: unknown): unknown {
  try {
    const r = checkPayload(payload, 50);
    return { received: r.received, invalid: r.invalid, rows: rowCells(r.rows, r.schema) };
  } catch (err) {
    if (err instanceof GraphError) return { error: err.code, message: err.message };
    throw err;
  }
}

/** Deterministic pseudo-random rows mixing every cell form, valid and not. */
function randomRows(seed: number, count: number, width = SCHEMA.length): unknown[][] {
  const random = seededRandom(seed);
  const next = (n: number): number => randomInt(random, n);
  const cells: unknown[] = [
    '',
    '',
    h(next(5)),
    h(next(1000)),
    EMPTY_SHA256,
    h(7).toUpperCase(),
    'x1',
    'ab-12',
    ' ',
    0,
    3,
    '12',
    -4,
    123_456_789_012_345,
    [],
    ['LDU'],
    ['GDPR'],
    [''],
    ['LDU', 'LDU'],
    ['a],[', 'b'],
  ];
  return Array.from({ length: count }, () => Array.from({ length: width }, () => cells[next(cells.length)]));
}

describe('parseJsonBody', () => {
  it('scans payload.data of a plain body; the rest is what JSON.parse gives', () => {
    const data = [
      [h(1), '', 'x', 0, [], ['LDU'], 12],
      [EMPTY_SHA256, h(2).toUpperCase(), '', -3, [''], [], 0],
    ];
    const body = {
      access_token: 'tok',
      payload: { schema: ['EMAIL'], is_raw: true, data, app_ids: ['1'] },
      session: { session_id: 5, batch_seq: 1, last_batch_flag: false },
    };
    const text = JSON.stringify(body);
    const parsed = parse(text) as { payload: { data: unknown } };
    const rows = parsed.payload.data;
    expect(rows).toBeInstanceOf(ScannedRows);
    expect({ ...parsed, payload: { ...parsed.payload, data } }).toEqual(JSON.parse(text));
    const scanned = rows as ScannedRows;
    expect(scanned.count).toBe(2);
    const values = [0, 1].map((r) =>
      Array.from({ length: scanned.rowStart[r + 1]! - scanned.rowStart[r]! }, (_, c) =>
        scanned.value(scanned.rowStart[r]! + c),
      ),
    );
    expect(values).toEqual(data);
    expect(Buffer.from(scanned.json).toString()).toBe(JSON.stringify(data));
  });

  it.each([
    ['whitespace in data', '{"payload":{"data":[ ["a"]]}}'],
    ['an escape', '{"payload":{"data":[["a\\u0062"]]}}'],
    ['non-ASCII', '{"payload":{"data":[["é"]]}}'],
    ['a decimal', '{"payload":{"data":[[1.5]]}}'],
    ['an exponent', '{"payload":{"data":[[1e3]]}}'],
    ['minus zero', '{"payload":{"data":[[-0]]}}'],
    ['16 digits', '{"payload":{"data":[[1234567890123456]]}}'],
    ['an object', '{"payload":{"data":[[{"a":1}]]}}'],
    ['a literal', '{"payload":{"data":[[null,true]]}}'],
    ['a nested list', '{"payload":{"data":[[[["LDU"]]]]}}'],
    ['a number in a list', '{"payload":{"data":[[[1]]]}}'],
    ['no rows', '{"payload":{"data":[]}}'],
    ['a bare value as a row', '{"payload":{"data":["a"]}}'],
    ['data twice', '{"payload":{"data":[["a"]],"data":[["b"]]}}'],
    ['payload twice', '{"payload":{"data":[["a"]]},"payload":{"data":[["b"]]}}'],
    ['an escaped key', '{"payload":{"d\\u0061ta":[["a"]]}}'],
    ['an escaped payload key', '{"p\\u0061yload":{"data":[["a"]]}}'],
    ['payload as a string', '{"payload":"{\\"data\\":[[\\"a\\"]]}"}'],
    ['data deeper down', '{"x":{"payload":{"data":[["a"]]}}}'],
  ])('leaves %s to JSON.parse', (_, text) => {
    const parsed = parse(text);
    expect(parsed).toEqual(JSON.parse(text));
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text)));
  });

  it.each([
    ['whitespace around it', ' {\n"payload" : { "data":[["a"]] , "schema" : "EXTERN_ID"} }\t'],
    ['keys after data', '{"payload":{"data":[["a",""],["",1]],"schema":["EMAIL","MADID"]},"z":[{"q":"]"}]}'],
    ['tricky strings elsewhere', '{"a":"\\"}],","payload":{"x":"\\\\","data":[["a"]]}}'],
  ])('scans with %s', (_, text) => {
    const parsed = parse(text);
    const data = dataOf(JSON.parse(text));
    expect(dataOf(parsed)).toBeInstanceOf(ScannedRows);
    expect(Buffer.from((dataOf(parsed) as ScannedRows).json).toString()).toBe(JSON.stringify(data));
  });

  it.each([
    ['truncated', '{"payload":{"data":[["a"]]}'],
    ['trailing text', '{"payload":{"data":[["a"]]}} x'],
    ['a bad value beside the rows', '{"payload":{"data":[["a"]],"schema":[EMAIL]}}'],
    ['a trailing comma', '{"payload":{"data":[["a"]],}}'],
    ['unclosed rows', '{"payload":{"data":[["a"]'],
    ['a leading zero', '{"payload":{"data":[[0,01]]}}'],
  ])('throws like JSON.parse for %s', (_, text) => {
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    expect(() => parse(text)).toThrow(SyntaxError);
  });
});

describe('checkPayload on scanned rows', () => {
  it('gives what it gives on parsed rows: rows, counts, data hash', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const payload = { schema: SCHEMA, data: randomRows(seed, 1 + (seed % 40)) };
      const text = JSON.stringify({ payload });
      const scanned = (parse(text) as { payload: unknown }).payload;
      expect(dataOf({ payload: scanned })).toBeInstanceOf(ScannedRows);
      expect(outcome(scanned), `seed ${seed}`).toEqual(outcome(payload));
      const rows = dataOf({ payload: scanned }) as ScannedRows;
      expect(createHash('sha256').update(rows.json).digest('hex')).toBe(
        createHash('sha256').update(JSON.stringify(payload.data)).digest('hex'),
      );
    }
  });

  it('refuses the same requests with the same errors', () => {
    const payloads = [
      { schema: SCHEMA, data: randomRows(3, 51) }, // too many rows
      { schema: SCHEMA, data: [...randomRows(4, 3), randomRows(5, 1, 3)[0]] }, // a short row
      { schema: SCHEMA, data: [[]] },
      { schema: ['NOPE'], data: randomRows(6, 2) },
      { schema: SCHEMA, data: randomRows(7, 2), extra: 1 },
      { schema: SCHEMA, data: randomRows(8, 2), is_raw: 'yes' },
      { schema: 'EMAIL_SHA256', data: [[h(1)], [''], ['x'], [h(2), h(3)]] },
      { schema: 'EMAIL_SHA256', data: [[h(1)], [EMPTY_SHA256]] },
    ];
    for (const payload of payloads) {
      const scanned = (parse(JSON.stringify({ payload })) as { payload: unknown }).payload;
      expect(dataOf({ payload: scanned })).toBeInstanceOf(ScannedRows);
      expect(outcome(scanned)).toEqual(outcome(payload));
    }
  });
});
