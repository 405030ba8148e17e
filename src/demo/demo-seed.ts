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
  /** The change log: keys whose membership changed or whose profile went. @default `<profilesTable>_changes` */
  changesTable?: string;
}

const DEFAULT_TABLES = { profilesTable: 'demo_profiles', membersTable: 'demo_segment_members' } as const;

/**
 * The profile-source configuration for the demo tables. Their `updated_at` is the change column (a trigger sets
 * it on every update) and the changes table its change log (triggers add the key of every membership row
 * inserted, updated or deleted and of every profile deleted or re-keyed), so a refresh examines only what changed.
 * `changeLog: false`: without the log, a refresh still compares every member's key with the snapshot for joiners
 * and every snapshot row with the segment for leavers. `changeColumn: false`: a refresh compares every member's
 * fingerprint.
 */
export function demoSourceConfig(
  tables: DemoTables = {},
  options: { changeColumn?: boolean; changeLog?: boolean } = {},
): ProfileSourceConfig {
  const t = { ...DEFAULT_TABLES, ...tables };
  const changes = options.changeColumn !== false;
  return {
    profilesTable: t.profilesTable,
    keyColumn: 'key',
    membership: { kind: 'table', table: t.membersTable, segmentColumn: 'segment', keyColumn: 'profile_key' },
    // The demo's profile keys are ids and nothing personal: they may be sent as EXTERN_ID.
    plaintextColumns: ['key'],
    ...(changes ? { changeColumn: 'updated_at' } : {}),
    ...(changes && options.changeLog !== false
      ? { changeLog: { table: changesTableOf(t), keyColumn: 'profile_key', changedAtColumn: 'changed_at' } }
      : {}),
  };
}

const changesTableOf = (t: DemoTables & { profilesTable: string }) => t.changesTable ?? `${t.profilesTable}_changes`;

export const DEMO_SOURCE_CONFIG: ProfileSourceConfig = demoSourceConfig();

function resolveTables(tables: DemoTables): { profiles: string; members: string; changes: string } {
  const t = { ...DEFAULT_TABLES, ...tables };
  return {
    profiles: quoteQualified(parseQualifiedName(t.profilesTable)),
    members: quoteQualified(parseQualifiedName(t.membersTable)),
    changes: quoteQualified(parseQualifiedName(changesTableOf(t))),
  };
}

/**
 * The change log's triggers, statement-level with transition tables (a bulk change writes the log in one
 * statement): every membership row inserted, updated or deleted, every profile deleted, and a profile whose key
 * changed, name their keys with the time. Created after seeding, so the seed's own rows are not logged.
 */
async function createChangeLogTriggers(db: Db, profiles: string, members: string, changes: string): Promise<void> {
  const log = (from: string, column: string) =>
    `EXECUTE format('INSERT INTO %s (profile_key) SELECT DISTINCT ${column} FROM ${from}', TG_ARGV[0]);`;
  await db.query(
    `CREATE OR REPLACE FUNCTION ae_demo_log_members() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
       IF TG_OP IN ('INSERT', 'UPDATE') THEN ${log('ae_new', 'profile_key')} END IF;
       IF TG_OP IN ('DELETE', 'UPDATE') THEN ${log('ae_old', 'profile_key')} END IF;
       RETURN NULL; END $$`,
  );
  await db.query(
    `CREATE OR REPLACE FUNCTION ae_demo_log_profiles() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
       ${log('ae_old', 'key')} RETURN NULL; END $$`,
  );
  await db.query(
    `CREATE OR REPLACE FUNCTION ae_demo_log_rekeyed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
       EXECUTE format('INSERT INTO %s (profile_key) VALUES ($1)', TG_ARGV[0]) USING OLD.key; RETURN NULL; END $$`,
  );
  const arg = `'${changes.replaceAll("'", "''")}'`;
  for (const [event, referencing] of [
    ['INSERT', 'NEW TABLE AS ae_new'],
    ['UPDATE', 'OLD TABLE AS ae_old NEW TABLE AS ae_new'],
    ['DELETE', 'OLD TABLE AS ae_old'],
  ] as const) {
    await db.query(
      `CREATE TRIGGER ae_demo_log_${event.toLowerCase()} AFTER ${event} ON ${members} REFERENCING ${referencing}
       FOR EACH STATEMENT EXECUTE FUNCTION ae_demo_log_members(${arg})`,
    );
  }
  await db.query(
    `CREATE TRIGGER ae_demo_log_delete AFTER DELETE ON ${profiles} REFERENCING OLD TABLE AS ae_old
     FOR EACH STATEMENT EXECUTE FUNCTION ae_demo_log_profiles(${arg})`,
  );
  await db.query(
    `CREATE TRIGGER ae_demo_log_rekey AFTER UPDATE OF key ON ${profiles} FOR EACH ROW
     WHEN (OLD.key IS DISTINCT FROM NEW.key) EXECUTE FUNCTION ae_demo_log_rekeyed(${arg})`,
  );
}

const PROFILE_COLUMNS_SQL = DEMO_PROFILE_COLUMNS.map(quoteIdent).join(', ');

const DAY_MS = 86_400_000;

/**
 * COPY lines of profiles `from`..; with `seededAt`, each line also carries an `updated_at` spread over the year
 * before the day before it, as a CRM's profiles were last changed at all sorts of times. A refresh reads changes
 * back from 10 minutes before its watermark (the last change it saw): profiles seeded within minutes of each other
 * would all fall in that window, and a refresh would examine every one of them.
 */
function* profileLines(from: number, count: number, seed: number, seededAt?: number): Generator<string> {
  for (let i = from; i < from + count; i++) {
    const line = profileCopyLine(generateDemoProfile(i, seed));
    if (seededAt === undefined) yield line;
    else {
      const at = new Date(seededAt - DAY_MS - ((i * 7919) % (365 * 86_400)) * 1000);
      yield `${line.slice(0, -1)}\t${at.toISOString()}\n`;
    }
  }
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
  const { profiles, members, changes } = resolveTables(options);
  const clock = phaseClock(options.onPhase);

  await db.query(`DROP TABLE IF EXISTS ${members}`);
  await db.query(`DROP TABLE IF EXISTS ${profiles}`);
  await db.query(`DROP TABLE IF EXISTS ${changes}`);
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
  await db.query(
    `CREATE TABLE ${changes} (profile_key text NOT NULL, changed_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
  );
  await db.query(`CREATE INDEX ON ${changes} (changed_at)`);

  await copyRows(db, profiles, `${PROFILE_COLUMNS_SQL}, updated_at`, profileLines(1, count, seed, Date.now()));
  clock('profiles');
  await copyRows(db, members, 'segment, profile_key', memberLines(1, count, seed));
  clock('members');
  await db.query(`ALTER TABLE ${profiles} ADD PRIMARY KEY (key)`);
  await db.query(`CREATE INDEX ON ${profiles} (updated_at)`);
  await db.query(`ALTER TABLE ${members} ADD PRIMARY KEY (segment, profile_key)`);
  // As a CDP keeps memberships: each names a profile, a deleted profile leaves its segments and a re-keyed one keeps
  // them. It also lets a segment's size be counted from its rows alone (sources/membership-rows.ts).
  await db.query(
    `ALTER TABLE ${members} ADD FOREIGN KEY (profile_key) REFERENCES ${profiles} (key) ON DELETE CASCADE ON UPDATE CASCADE`,
  );
  await createChangeLogTriggers(db, profiles, members, changes);
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
