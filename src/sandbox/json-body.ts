import { BACKSLASH, CLOSE_LIST, COMMA, latin1, OPEN_LIST, QUOTE, type ScannedRows, scanRows } from './json-rows.js';

const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * The value of a JSON request body, as JSON.parse gives it, except that a `payload.data` in the plain form
 * (see json-rows.ts) is a ScannedRows. Throws what JSON.parse throws for a body that is not JSON.
 *
 * Only the rows are scanned: the walk over the rest just finds where they are (the body's `payload`, its
 * `data`, each key once and unescaped, or JSON.parse decides alone), then the rest goes through JSON.parse
 * with a 0 in their place, which checks it is JSON.
 */
export function parseJsonBody(body: Buffer): unknown {
  return scanBody(body) ?? (JSON.parse(body.toString('utf8')) as unknown);
}

/** The body with its payload.data scanned, or undefined when it does not have one in the plain form. */
function scanBody(b: Buffer): Record<string, unknown> | undefined {
  let rows: ScannedRows | undefined;
  let payloads = 0;
  let datas = 0;
  const visitPayload = (key: string, at: number): number => {
    if (key !== 'data') return skipValue(b, at);
    // JSON.parse keeps the last of repeated keys: leave such bodies to it.
    if (datas++ > 0 || b[at] !== OPEN_LIST) return -1;
    rows = scanRows(b, at);
    return rows ? rows.end : -1;
  };
  const visitBody = (key: string, at: number): number => {
    if (key !== 'payload') return skipValue(b, at);
    if (payloads++ > 0) return -1;
    return b[at] === OPEN_OBJECT ? walkObject(b, at, visitPayload) : skipValue(b, at);
  };
  const start = skipSpace(b, 0);
  if (b[start] !== OPEN_OBJECT) return undefined;
  const end = walkObject(b, start, visitBody);
  if (end < 0 || skipSpace(b, end) !== b.length || !rows) return undefined;
  // Everything but the rows goes through JSON.parse, with a 0 in their place.
  let rest: unknown;
  try {
    rest = JSON.parse(
      Buffer.concat([b.subarray(0, rows.start), Buffer.from('0'), b.subarray(rows.end)]).toString('utf8'),
    ) as unknown;
  } catch {
    return undefined;
  }
  const payload = isObject(rest) ? rest.payload : undefined;
  if (!isObject(payload) || payload.data !== 0) return undefined;
  payload.data = rows;
  return rest as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function skipSpace(b: Uint8Array, at: number): number {
  while (b[at] === 0x20 || b[at] === 0x0a || b[at] === 0x0d || b[at] === 0x09) at++;
  return at;
}

/**
 * Walks a JSON object at `at`, calling `visit` with each key (unescaped keys only) and where its value starts;
 * `visit` returns where the value ends, or -1. Returns where the object ends, or -1 (then JSON.parse decides).
 */
function walkObject(b: Uint8Array, at: number, visit: (key: string, valueAt: number) => number): number {
  let p = skipSpace(b, at + 1);
  if (b[p] === CLOSE_OBJECT) return p + 1;
  for (;;) {
    if (b[p] !== QUOTE) return -1;
    const keyEnd = skipString(b, p);
    if (keyEnd < 0 || b.subarray(p, keyEnd).includes(BACKSLASH)) return -1;
    const key = latin1(b, p + 1, keyEnd - 1);
    p = skipSpace(b, keyEnd);
    if (b[p] !== COLON) return -1;
    p = visit(key, skipSpace(b, p + 1));
    if (p < 0) return -1;
    p = skipSpace(b, p);
    if (b[p] === CLOSE_OBJECT) return p + 1;
    if (b[p] !== COMMA) return -1;
    p = skipSpace(b, p + 1);
  }
}

/** Where the string starting at `at` ends (after its quote), or -1. */
function skipString(b: Uint8Array, at: number): number {
  for (let p = at + 1; p < b.length; p++) {
    if (b[p] === BACKSLASH) p++;
    else if (b[p] === QUOTE) return p + 1;
  }
  return -1;
}

/** Where the JSON value at `at` ends, or -1. Only finds the end: JSON.parse checks the value afterwards. */
function skipValue(b: Uint8Array, at: number): number {
  const first = b[at];
  if (first === QUOTE) return skipString(b, at);
  if (first === OPEN_OBJECT || first === OPEN_LIST) {
    let depth = 0;
    for (let p = at; p < b.length; p++) {
      const c = b[p];
      if (c === QUOTE) {
        p = skipString(b, p);
        if (p < 0) return -1;
        p--;
      } else if (c === OPEN_OBJECT || c === OPEN_LIST) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_LIST) {
        if (--depth === 0) return p + 1;
      }
    }
    return -1;
  }
  let p = at;
  while (p < b.length && b[p] !== COMMA && b[p] !== CLOSE_OBJECT && b[p] !== CLOSE_LIST && skipSpace(b, p) === p) p++;
  return p === at ? -1 : p;
}
