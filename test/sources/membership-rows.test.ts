import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { membershipRowsAreMembers } from '../../src/sources/membership-rows.js';
import { createProfileSource } from '../../src/sources/profile-source.js';
import { openTestDb } from '../support/context.js';

// Test files share one database: every name here is this file's own.
const PROFILES = 'mr_t_profiles';
const MEMBERS = 'mr_t_members';

let db: Db;

beforeAll(async () => {
  db = await openTestDb();
  await db.query(`DROP VIEW IF EXISTS mr_t_members_view`);
  await db.query(`DROP TABLE IF EXISTS ${MEMBERS}, ${PROFILES}`);
  await db.query(`CREATE TABLE ${PROFILES} (key text PRIMARY KEY, email text UNIQUE, consent boolean NOT NULL)`);
  await db.query(
    `INSERT INTO ${PROFILES} SELECT 'k' || i, 'p' || i || '@example.com', i % 3 <> 0 FROM generate_series(1, 60) AS i`,
  );
});

afterAll(async () => {
  await db.query(`DROP VIEW IF EXISTS mr_t_members_view`);
  await db.query(`DROP TABLE IF EXISTS ${MEMBERS}, ${PROFILES}`);
  await db.close();
});

/** A membership table of 'vip' (k1..k40) and 'all' (k1..k60) as `ddl` shapes it, with `extra` rows after. */
async function members(ddl: string, extra: string[] = []): Promise<void> {
  await db.query(`DROP VIEW IF EXISTS mr_t_members_view`);
  await db.query(`DROP TABLE IF EXISTS ${MEMBERS}`);
  await db.query(`CREATE TABLE ${MEMBERS} (segment text NOT NULL, profile_key text, note text)`);
  await db.query(
    `INSERT INTO ${MEMBERS} (segment, profile_key)
     SELECT 'vip', 'k' || i FROM generate_series(1, 40) AS i
     UNION ALL SELECT 'all', 'k' || i FROM generate_series(1, 60) AS i`,
  );
  for (const sql of extra) await db.query(sql);
  await db.query(ddl.replaceAll('$M', MEMBERS).replaceAll('$P', PROFILES));
}

const ref = (table = MEMBERS, profilesTable = PROFILES) => ({
  table,
  segmentColumn: 'segment',
  keyColumn: 'profile_key',
  profilesTable,
  profileKeyColumn: 'key',
});

/** The segment size the profile source reports (a preview's count) beside what a join of the tables says. */
async function counted(table = MEMBERS, profilesTable = PROFILES): Promise<{ reported: number; joined: number }> {
  const source = await createProfileSource(db, {
    profilesTable,
    keyColumn: 'key',
    membership: { kind: 'table', table, segmentColumn: 'segment', keyColumn: 'profile_key' },
  });
  const { segmentSize } = await source.sample({ segments: ['vip'], attributes: ['email'], limit: 5 });
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${profilesTable} p
     WHERE EXISTS (SELECT 1 FROM ${table} m WHERE m.segment = 'vip' AND m.profile_key = p.key)`,
  );
  return { reported: segmentSize, joined: row!.n };
}

const FOREIGN_KEY = `ALTER TABLE $M ADD FOREIGN KEY (profile_key) REFERENCES $P (key)`;

describe('a membership table whose rows are the members', () => {
  it('is one with a validated foreign key to the profiles and a unique index on segment and key, in either order', async () => {
    await members(`${FOREIGN_KEY}; ALTER TABLE $M ADD PRIMARY KEY (segment, profile_key)`);
    expect(await membershipRowsAreMembers(db, ref())).toBe(true);
    expect(await counted()).toEqual({ reported: 40, joined: 40 });

    await members(`${FOREIGN_KEY}; CREATE UNIQUE INDEX ON $M (profile_key, segment)`, [
      // A row with no key passes a foreign key; it is no member.
      `INSERT INTO ${MEMBERS} (segment, profile_key) VALUES ('vip', NULL)`,
    ]);
    expect(await membershipRowsAreMembers(db, ref())).toBe(true);
    expect(await counted()).toEqual({ reported: 40, joined: 40 });
  });

  it('is not one without either guarantee, and then the count joins the profiles', async () => {
    const ghost = `INSERT INTO ${MEMBERS} (segment, profile_key) VALUES ('vip', 'ghost')`;
    const twice = `INSERT INTO ${MEMBERS} (segment, profile_key) VALUES ('vip', 'k1')`;
    const cases: [string, string, string[]][] = [
      ['a foreign key added NOT VALID over a row naming no profile', `ALTER TABLE $M ADD FOREIGN KEY (profile_key) REFERENCES $P (key) NOT VALID; ALTER TABLE $M ADD PRIMARY KEY (segment, profile_key)`, [ghost]], // prettier-ignore
      ['no foreign key', `ALTER TABLE $M ADD PRIMARY KEY (segment, profile_key)`, [ghost]],
      ['no unique index', FOREIGN_KEY, [twice]],
      ['a unique index with another column', `${FOREIGN_KEY}; CREATE UNIQUE INDEX ON $M (segment, profile_key, note)`, [twice]], // prettier-ignore
      ['a partial unique index', `${FOREIGN_KEY}; CREATE UNIQUE INDEX ON $M (segment, profile_key) WHERE note IS NULL`, [`INSERT INTO ${MEMBERS} VALUES ('vip', 'k1', 'x')`]], // prettier-ignore
      ['a foreign key to another column', `ALTER TABLE $M ADD FOREIGN KEY (profile_key) REFERENCES $P (email); ALTER TABLE $M ADD PRIMARY KEY (segment, profile_key)`, [`UPDATE ${MEMBERS} SET profile_key = replace(profile_key, 'k', 'p') || '@example.com'`]], // prettier-ignore
    ];
    for (const [why, ddl, extra] of cases) {
      await members(ddl, extra);
      expect(await membershipRowsAreMembers(db, ref()), why).toBe(false);
      const { reported, joined } = await counted();
      expect(reported, why).toBe(joined);
    }
  });

  it('is not one through a view of the memberships, nor for a view of the profiles', async () => {
    await members(`${FOREIGN_KEY}; ALTER TABLE $M ADD PRIMARY KEY (segment, profile_key)`);
    await db.query(`CREATE VIEW mr_t_members_view AS SELECT * FROM ${MEMBERS}`);
    expect(await membershipRowsAreMembers(db, ref('mr_t_members_view'))).toBe(false);
    expect(await counted('mr_t_members_view')).toEqual({ reported: 40, joined: 40 });

    // The view keeps only consenting profiles: the membership rows name more than it has.
    await db.query(`CREATE OR REPLACE VIEW mr_t_consenting AS SELECT * FROM ${PROFILES} WHERE consent`);
    try {
      expect(await membershipRowsAreMembers(db, ref(MEMBERS, 'mr_t_consenting'))).toBe(false);
      const { reported, joined } = await counted(MEMBERS, 'mr_t_consenting');
      expect(joined).toBe(27);
      expect(reported).toBe(joined);
    } finally {
      await db.query('DROP VIEW mr_t_consenting');
    }
  });
});
