import { createHash } from 'node:crypto';
import { normalize, normalizeDateOfBirth } from '../../src/domain/normalize.js';
import type { DemoAttributes } from '../../src/demo/demo-profiles.js';
import type { Db } from '../../src/store/db.js';
import type { Sandbox } from '../../src/sandbox/server.js';

const sha = (s: string) => (s === '' ? '' : createHash('sha256').update(s, 'utf8').digest('hex'));

/** A row of the demo profiles table. */
type DemoRow = { key: string } & DemoAttributes;

/**
 * The rows an audience should hold for a segment of the demo tables with the standard test mapping (Email key,
 * DEMO_MAPPING: every demo attribute mapped), computed key by key with the normalisation API and node's own
 * SHA-256 — apart from the exporter's row building, batching and transport.
 */
export async function expectedRows(
  db: Db,
  tables: { profilesTable: string; membersTable: string },
  segments: string[],
  options: { defaultCountry?: string; consentAttribute?: boolean } = {},
): Promise<{
  rows: Set<string>;
  byKey: Map<string, string>;
  usableKeys: Set<string>;
  dropped: number;
  memberKeys: string[];
}> {
  const profiles = await db.query<DemoRow>(
    `SELECT p.* FROM ${tables.profilesTable} p
     WHERE EXISTS (SELECT 1 FROM ${tables.membersTable} m WHERE m.profile_key = p.key AND m.segment = ANY($1))`,
    [segments],
  );
  const rows = new Set<string>();
  const byKey = new Map<string, string>();
  const usableKeys = new Set<string>();
  let dropped = 0;
  for (const p of profiles) {
    const ctx = { country: p.country ?? undefined, defaultCountry: options.defaultCountry ?? 'US' };
    const email = normalize('EMAIL', p.email, ctx);
    if (email === '' || (options.consentAttribute && p.marketing_consent !== true)) {
      dropped += 1;
      continue;
    }
    const dob = normalizeDateOfBirth(p.date_of_birth, ctx);
    const fn = normalize('FN', p.first_name, ctx);
    const cells = [
      '',
      sha(email),
      sha(normalize('PHONE', p.phone, ctx)),
      sha(dob.DOBY),
      sha(dob.DOBM),
      sha(dob.DOBD),
      sha(normalize('LN', p.last_name, ctx)),
      sha(fn),
      sha(normalize('FI', p.first_name, ctx)),
      sha(normalize('GEN', p.gender, ctx)),
      sha(normalize('CT', p.city, ctx)),
      sha(normalize('ST', p.state, ctx)),
      sha(normalize('ZIP', p.zip, ctx)),
      sha(normalize('COUNTRY', p.country, ctx)),
      '',
      [],
      0,
      0,
    ];
    rows.add(JSON.stringify(cells));
    byKey.set(p.key, JSON.stringify(cells));
    usableKeys.add(p.key);
  }
  return { rows, byKey, usableKeys, dropped, memberKeys: profiles.map((p) => p.key) };
}

/** Every row the sandbox audience holds, as JSON strings, with its schema. */
export async function sandboxMembers(
  sandbox: Sandbox,
  audienceId: string,
): Promise<{ schema: string[]; rows: Set<string> }> {
  const rows = new Set<string>();
  let schema: string[] = [];
  for (let offset = 0; ; offset += 5_000) {
    const res = await fetch(`${sandbox.url}/__sandbox/audiences/${audienceId}/members?offset=${offset}&limit=5000`);
    const page = (await res.json()) as { schema: string[]; total: number; members: unknown[][] };
    schema = page.schema;
    for (const m of page.members) rows.add(JSON.stringify(m));
    if (page.members.length < 5_000) break;
  }
  return { schema, rows };
}
