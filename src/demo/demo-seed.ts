import type { Db } from '../store/index.js';
import { copyRows } from './copy-rows.js';
import {
  DEMO_PROFILE_COLUMNS,
  DemoSegment,
  demoIndexOfKey,
  demoKey,
  demoSegmentsOf,
  generateDemoProfile,
  profileCopyLine,
} from './demo-profiles.js';
import { UnknownSegmentError } from '../sources/errors.js';
import { parseQualifiedName, quoteIdent, quoteQualified } from '../sources/sql-names.js';
import type { ProfileSourceConfig } from '../sources/profile-source-config.js';

export interface DemoTables {
  /** @default 'demo_profiles' */
  profilesTable?: string;
  /** @default 'demo_segment_members' */
  membersTable?: string;
}

const DEFAULT_TABLES = { profilesTable: 'demo_profiles', membersTable: 'demo_segment_members' } as const;

/**
 * The profile-source configuration for the demo tables. Their `updated_at` is the change column (a trigger sets
 * it on every update), unless `changeColumn: false`: then a refresh compares every member's fingerprint.
 */
export function demoSourceConfig(
  tables: DemoTables = {},
  options: { changeColumn?: boolean } = {},
): ProfileSourceConfig {
  const t = { ...DEFAULT_TABLES, ...tables };
  return {
    profilesTable: t.profilesTable,
    keyColumn: 'key',
    membership: { kind: 'table', table: t.membersTable, segmentColumn: 'segment', keyColumn: 'profile_key' },
    // The demo's profile keys are ids and nothing personal: they may be sent as EXTERN_ID.
    plaintextColumns: ['key'],
    ...(options.changeColumn === false ? {} : { changeColumn: 'updated_at' }),
  };
}

export const DEMO_SOURCE_CONFIG: ProfileSourceConfig = demoSourceConfig();

function resolveTables(tables: DemoTables): { profiles: string; members: string } {
  const t = { ...DEFAULT_TABLES, ...tables };
  return {
    profiles: quoteQualified(parseQualifiedName(t.profilesTable)),
    members: quoteQualified(parseQualifiedName(t.membersTable)),
  };
}

const PROFILE_COLUMNS_SQL = DEMO_PROFILE_COLUMNS.map(quoteIdent).join(', ');

function* profileLines(from: number, count: number, seed: number): Generator<string> {
  for (let i = from; i < from + count; i++) yield profileCopyLine(generateDemoProfile(i, seed));
}

function* memberLines(from: number, count: number, seed: number): Generator<string> {
  for (let i = from; i < from + count; i++) {
    const key = demoKey(i);
    for (const s of demoSegmentsOf(i, seed)) yield `${s}\t${key}\n`;
  }
}

export interface SeedOptions extends DemoTables {
  /** How many profiles. @default 100_000 */
  profiles?: number;
  /** Same seed, same data. @default 1 */
  seed?: number;
  /** Called after each phase, for a CLI to report progress. */
  onPhase?: (phase: 'profiles' | 'members' | 'indexes', seconds: number) => void;
}

export interface SeedResult {
  profiles: number;
  members: Record<string, number>;
}

/**
 * (Re)creates the demo tables and fills them with `profiles` synthetic profiles and their segment memberships
 * (all, vip ~5%, one_percent ~1%, newsletter = consenting). Tables are loaded without indexes and indexed after,
 * which is several times faster for millions of rows.
 */
export async function seedDemoProfiles(db: Db, options: SeedOptions = {}): Promise<SeedResult> {
  const count = options.profiles ?? 100_000;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('profiles must be a non-negative integer');
  const { profiles, members } = resolveTables(options);
  const clock = phaseClock(options.onPhase);

  await db.query(`DROP TABLE IF EXISTS ${members}`);
  await db.query(`DROP TABLE IF EXISTS ${profiles}`);
  await db.query(
    `CREATE TABLE ${profiles} (
       key text NOT NULL, email text, phone text, first_name text, last_name text, gender text,
       date_of_birth text, city text, state text, zip text, country text, marketing_consent boolean,
       updated_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  // As a CRM keeps it: every update of a profile moves its updated_at (the source's change column).
  await db.query(
    `CREATE OR REPLACE FUNCTION ae_demo_touch() RETURNS trigger LANGUAGE plpgsql AS
     $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$`,
  );
  await db.query(
    `CREATE TRIGGER ae_demo_touch BEFORE UPDATE ON ${profiles} FOR EACH ROW EXECUTE FUNCTION ae_demo_touch()`,
  );
  await db.query(`CREATE TABLE ${members} (segment text NOT NULL, profile_key text NOT NULL)`);

  await copyRows(db, profiles, PROFILE_COLUMNS_SQL, profileLines(1, count, seed));
  clock('profiles');
  await copyRows(db, members, 'segment, profile_key', memberLines(1, count, seed));
  clock('members');
  await db.query(`ALTER TABLE ${profiles} ADD PRIMARY KEY (key)`);
  await db.query(`CREATE INDEX ON ${profiles} (updated_at)`);
  await db.query(`ALTER TABLE ${members} ADD PRIMARY KEY (segment, profile_key)`);
  await db.query(`ANALYZE ${profiles}`);
  await db.query(`ANALYZE ${members}`);
  clock('indexes');
  return { profiles: count, members: await memberCounts(db, members) };
}

async function memberCounts(db: Db, members: string): Promise<Record<string, number>> {
  const rows = await db.query<{ segment: string; n: number }>(
    `SELECT segment, count(*)::int8 AS n FROM ${members} GROUP BY segment ORDER BY segment`,
  );
  return Object.fromEntries(rows.map((r) => [r.segment, Number(r.n)]));
}

function phaseClock(onPhase: SeedOptions['onPhase']) {
  let last = performance.now();
  return (phase: 'profiles' | 'members' | 'indexes') => {
    const now = performance.now();
    onPhase?.(phase, (now - last) / 1000);
    last = now;
  };
}

export interface ChangeShareOptions extends DemoTables {
  /** @default 'all' */
  segment?: string;
  /** Share of the segment's size to change, split in thirds: members leave, profiles join, members' e-mails change. */
  share: number;
  /** @default 1 */
  seed?: number;
}

export interface ChangeShareResult {
  segment: string;
  /** Members before the change. */
  size: number;
  left: number;
  joined: number;
  /** Of `joined`: profiles newly created because too few non-members existed (always so for `all`). */
  created: number;
  changedEmail: number;
}

/**
 * Changes a share of a demo segment, as a day of CRM activity would, for refresh benchmarks: a third of the
 * changed members leave, a third of new members join, a third change e-mail. Choices are a seeded hash order,
 * so the same seed changes the same members.
 */
export async function changeSegmentShare(db: Db, options: ChangeShareOptions): Promise<ChangeShareResult> {
  const segment = options.segment ?? DemoSegment.All;
  const seed = options.seed ?? 1;
  if (!(options.share > 0 && options.share <= 1)) throw new RangeError('share must be in (0, 1]');
  const { profiles, members } = resolveTables(options);
  const [sizeRow] = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${members} WHERE segment = $1`, [
    segment,
  ]);
  const size = Number(sizeRow?.n ?? 0);
  if (size === 0) throw new UnknownSegmentError([segment]);
  const total = Math.max(1, Math.round(size * options.share));
  const leave = Math.floor(total / 3);
  const join = Math.floor(total / 3);
  const change = total - leave - join;
  const order = `hashtextextended(profile_key, $2), profile_key`;

  const { left, joinedExisting, changedEmail } = await db.transaction(async (tx) => {
    const count = async (sql: string, params: unknown[]) =>
      Number(
        (await tx.query<{ n: number }>(`WITH c AS (${sql} RETURNING 1) SELECT count(*)::int8 AS n FROM c`, params))[0]
          ?.n ?? 0,
      );
    // Leavers and e-mail changers are consecutive slices of one hash order, so they never overlap.
    await tx.query(
      `CREATE TEMP TABLE ae_demo_leavers ON COMMIT DROP AS
       SELECT profile_key FROM ${members} WHERE segment = $1 ORDER BY ${order} LIMIT ${leave}`,
      [segment, seed],
    );
    const changedEmail = await count(
      `UPDATE ${profiles} SET email = 'changed.' || substr(md5(key || $2::text), 1, 12) || '@example.net'
       WHERE key IN (SELECT profile_key FROM ${members} WHERE segment = $1 ORDER BY ${order} OFFSET ${leave} LIMIT ${change})`,
      [segment, seed],
    );
    const left = await count(
      `DELETE FROM ${members} WHERE segment = $1 AND profile_key IN (SELECT profile_key FROM ae_demo_leavers)`,
      [segment],
    );
    // Joiners are profiles outside the segment that did not just leave it.
    const joinedExisting = await count(
      `INSERT INTO ${members} (segment, profile_key)
       SELECT $1, p.key FROM ${profiles} AS p
       WHERE NOT EXISTS (SELECT 1 FROM ${members} AS m WHERE m.segment = $1 AND m.profile_key = p.key)
         AND NOT EXISTS (SELECT 1 FROM ae_demo_leavers AS l WHERE l.profile_key = p.key)
       ORDER BY hashtextextended(p.key, $2 + 1), p.key LIMIT ${join}`,
      [segment, seed],
    );
    return { left, joinedExisting, changedEmail };
  });

  // Too few outsiders (always so for `all`): new profiles join, appended after the highest demo key.
  const created = join - joinedExisting;
  if (created > 0) {
    const [maxRow] = await db.query<{ key: string | null }>(`SELECT max(key COLLATE "C") AS key FROM ${profiles}`);
    const from = (demoIndexOfKey(maxRow?.key ?? '') ?? 0) + 1;
    await copyRows(db, profiles, PROFILE_COLUMNS_SQL, profileLines(from, created, seed));
    const segments = segment === DemoSegment.All ? [segment] : [DemoSegment.All, segment];
    await db.query(
      `INSERT INTO ${members} (segment, profile_key)
       SELECT s, $3 || lpad(i::text, 10, '0') FROM unnest($1::text[]) AS s, generate_series($2::int8, $2::int8 + $4 - 1) AS i
       ON CONFLICT DO NOTHING`,
      [segments, from, demoKey(0).slice(0, -10), created],
    );
  }
  return { segment, size, left, joined: joinedExisting + created, created, changedEmail };
}
