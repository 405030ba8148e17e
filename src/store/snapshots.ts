import type { Db, Queryable } from './db.js';
import { holdDestination } from './destinations.js';
import { suppressedProfiles } from './suppressions.js';
import { toBuffer } from './rows.js';
import type { Cell } from '../domain/canonical-row.js';
import { cellsBound, decodeCells, writeCells } from './snapshot-codec.js';

/*
 * Audience membership snapshots: what each audience holds, as far as we know (design "Modes").
 *
 * Table audience_snapshots (audience_id, profile_key, fingerprint bytea(16), cells bytea, state, run_id, page),
 * primary key (audience_id, profile_key, fingerprint). A changed member gets a second row (new fingerprint) and
 * keeps the old one until the profile leaves, because a remove and an add of one person in one run can race at Meta.
 *
 * States: `dropped` is a member a run examined and did not send (no usable key identifier, no consent...): nothing is
 * at Meta, and the row (with empty cells) only tells the next refresh that this member, as fingerprinted, needs no
 * second look. `possibly_sent` is written *before* a page is posted, with the page that carries the row, so rows of a
 * run that failed half-way are still known (and removed later). Once Meta accepts the page, `confirmPage` lists
 * (run, page) in audience_snapshot_pages, which confirms all its rows at once: rewriting 10 million rows to `sent`
 * cost PostgreSQL more than writing them. `sent` is also written literally (rows recorded without a page, settled
 * by `commitRun`; a confirmed row re-recorded by a later run). `removing` is written before a remove is posted.
 * Whether a row is confirmed sent is therefore a predicate, {@link confirmedSentSql}, and readers use it.
 *
 * A mirror refresh freezes only members whose current (profile, fingerprint) is not settled ({@link settledSql}:
 * confirmed sent, or dropped), then plans (upload-plan.ts) the removes: rows of profiles no longer in the segment
 * (or without consent), and rows an earlier run left `removing`. Both are anti-joins over millions of keys.
 */

/**
 * SQL: whether snapshot row `a` is confirmed at Meta. The subquery is uncorrelated, so PostgreSQL hashes the
 * accepted pages once (one row per 10,000 rows written) instead of probing per row.
 */
export const confirmedSentSql = (a: string): string =>
  `(${a}.state = 'sent' OR (${a}.state = 'possibly_sent' AND coalesce((${a}.run_id, ${a}.page) IN ` +
  `(SELECT run_id, page FROM audience_snapshot_pages), false)))`;

/**
 * SQL fragments for a freeze that copies only what changed (sources/profile-source.ts `ChangeFilter`), with
 * parameters numbered from `$1`: whether audience `audienceId`'s snapshot settled a key and fingerprint (a row
 * confirmed sent, or dropped: the same member gives the same row), or settled any row of a key.
 */
export function settledSql(audienceId: string) {
  const settled = (a: string) => `(${a}.state = 'dropped' OR ${confirmedSentSql(a)})`;
  return {
    settled: (key: string, fingerprint: string) => ({
      sql:
        `EXISTS (SELECT 1 FROM audience_snapshots a WHERE a.audience_id = $1 AND a.profile_key = ${key} ` +
        `AND a.fingerprint = ${fingerprint} AND ${settled('a')})`,
      params: [audienceId],
    }),
    knownKey: (key: string) => ({
      sql: `EXISTS (SELECT 1 FROM audience_snapshots a WHERE a.audience_id = $1 AND a.profile_key = ${key} AND ${settled('a')})`,
      params: [audienceId],
    }),
  };
}

/** SQL: the state of snapshot row `a` as readers see it (possibly sent on an accepted page reads as sent). */
const stateSql = (a: string): string => `CASE WHEN ${confirmedSentSql(a)} THEN 'sent' ELSE ${a}.state END`;

export const SnapshotState = {
  Sent: 'sent',
  PossiblySent: 'possibly_sent',
  Removing: 'removing',
  Dropped: 'dropped',
} as const;
export type SnapshotState = (typeof SnapshotState)[keyof typeof SnapshotState];

export interface SnapshotKey {
  readonly profileKey: string;
  /** 16 bytes is plenty: a digest of the mapped raw attributes, computed when the run froze its members. */
  readonly fingerprint: Uint8Array;
}

export interface SnapshotRow extends SnapshotKey {
  /** The row's cells exactly as posted to Meta, in the audience's canonical schema. */
  readonly cells: readonly Cell[];
}

export interface SnapshotEntry extends SnapshotRow {
  readonly state: SnapshotState;
  readonly runId: string;
}

export interface SnapshotCounts {
  readonly sent: number;
  readonly possiblySent: number;
  readonly removing: number;
  /** Rows at Meta or possibly so: sent + possibly sent + removing (dropped members are not). */
  readonly total: number;
  readonly dropped: number;
}

/** What an audience's snapshot was made under (domain/snapshot-basis.ts) and the change watermark of its source. */
export interface SnapshotMeta {
  readonly basis: string;
  readonly changeColumn: string | null;
  readonly changeWatermark: string | null;
}

/** A page's rows for the snapshot: those to post (possibly sent) and the members the page dropped. */
export interface PageRecord {
  readonly sent: readonly SnapshotRow[];
  readonly dropped: readonly SnapshotKey[];
}

/** Who writes: an export of this destination, whose deletion the write must not outlive. */
export interface SnapshotWriter {
  /**
   * The destination whose export writes: the write holds it in its transaction (destinations.ts
   * `holdDestination`) and throws NotFoundError when it is deleted or being deleted, writing nothing. Exports always
   * give it; without it the write is unguarded (tests of the snapshot alone).
   */
  readonly destinationId?: string;
}

export interface RecordPageOptions extends SnapshotWriter {
  /**
   * No row of this page can be in the snapshot yet, but for an earlier attempt at this very page (the run froze
   * the whole segment into an audience it started empty or replaced). Such a page is written with COPY, and a
   * retry that finds the page recorded writes nothing.
   */
  readonly fresh: boolean;
  /**
   * The suppression list's size when the page's rows were checked against it (suppressions `size`): the write
   * checks them again only if people were listed since. Without it, always.
   */
  readonly suppressionsChecked?: number;
}

const FINGERPRINT_BYTES = 16;

/**
 * Keys as a text[] of profile keys and one bytea of fingerprints back to back. bytea parameters travel in binary;
 * as hex text arrays, PostgreSQL spent more CPU parsing a page's parameters than inserting its rows.
 */
function packKeys(keys: readonly SnapshotKey[]): [string[], Buffer] {
  const fingerprints = Buffer.allocUnsafe(keys.length * FINGERPRINT_BYTES);
  keys.forEach((k, i) => {
    if (k.fingerprint.byteLength !== FINGERPRINT_BYTES)
      throw new RangeError(`a snapshot fingerprint has ${FINGERPRINT_BYTES} bytes, got ${k.fingerprint.byteLength}`);
    fingerprints.set(k.fingerprint, i * FINGERPRINT_BYTES);
  });
  return [keys.map((k) => k.profileKey), fingerprints];
}

/** SQL: the `i`-th (1-based) fingerprint of packed fingerprints `f` (a bytea parameter). */
const fingerprintAtSql = (f: string, i: string) =>
  `substring(${f}::bytea from ((${i} - 1) * ${FINGERPRINT_BYTES} + 1)::int for ${FINGERPRINT_BYTES})`;

/** SQL rows (k, f) of packed keys passed as parameters $k (text[]) and $f (bytea). */
const unpackKeysSql = (k: string, f: string) =>
  `(SELECT t.k, ${fingerprintAtSql(f, 't.i')} AS f FROM unnest(${k}::text[]) WITH ORDINALITY AS t(k, i))`;

/** The last row of each (profile, fingerprint): a page can carry one member twice. */
function lastOfEachKey<R extends SnapshotKey>(rows: readonly R[]): readonly R[] {
  // Pages almost never repeat a profile: checking the keys alone is cheap, and then nothing needs deduplicating.
  if (new Set(rows.map((r) => r.profileKey)).size === rows.length) return rows;
  const last = new Map<string, R>();
  for (const r of rows) {
    const fingerprint = Buffer.from(r.fingerprint.buffer, r.fingerprint.byteOffset, r.fingerprint.byteLength);
    last.set(`${fingerprint.toString('base64')}${r.profileKey}`, r);
  }
  return [...last.values()];
}

export interface RecordOptions {
  /** The run's page that carries the rows; `confirmPage` confirms them. Without one, `commitRun` settles them. */
  page?: number;
}

export type SnapshotRepository = ReturnType<typeof createSnapshotRepository>;

export function createSnapshotRepository(db: Db) {
  return {
    /**
     * Records rows as possibly sent by `runId` on `page`, before that page is posted. A row already confirmed sent
     * stays sent (it is at Meta whatever this post does) but takes the new cells, run and page; a `removing` row is
     * possibly sent again. Duplicate keys within one call keep the last. Returns the number of rows written.
     */
    async recordPossiblySent(
      audienceId: string,
      runId: string,
      rows: readonly SnapshotRow[],
      { page }: RecordOptions = {},
    ): Promise<number> {
      return upsertRows(db, audienceId, runId, page ?? null, rows, []);
    },

    /**
     * Records a page before it is posted: its rows possibly sent (as `recordPossiblySent`), the members it dropped
     * as dropped (a row already at Meta stays as it is). A fresh page goes in with one COPY where the database
     * takes one, once per page. The suppression list is checked again once the write holds its destination, which an
     * erasure's listing waits for (suppressions.ts `add`): the rows of a person erased since the page was built are
     * recorded as dropped instead, and their profile keys returned, so the caller does not send them.
     */
    async recordPage(
      audienceId: string,
      runId: string,
      page: number,
      record: PageRecord,
      { fresh, destinationId, suppressionsChecked }: RecordPageOptions,
    ): Promise<ReadonlySet<string>> {
      if (record.sent.length + record.dropped.length === 0) return new Set();
      if (!fresh || db.kind !== 'postgres') {
        return guarded(db, destinationId, async (q) => {
          const { erased, rows } = await withoutSuppressed(q, record, suppressionsChecked);
          await upsertRows(q, audienceId, runId, page, rows.sent, rows.dropped);
          return erased;
        });
      }
      return db.transaction(async (tx) => {
        if (destinationId) await holdDestination(tx, destinationId);
        const { erased, rows } = await withoutSuppressed(tx, record, suppressionsChecked);
        const marked = await tx.query(
          `INSERT INTO audience_snapshot_recorded_pages (audience_id, run_id, page) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING 1`,
          [audienceId, runId, page],
        );
        // An earlier attempt at this page wrote its rows (and an erasure since found those of its people).
        if (marked.length > 0) await copyRows(tx, audienceId, runId, page, rows);
        return erased;
      });
    },

    /**
     * Confirms every row `runId` recorded on `page` as sent, once Meta accepted the page: one row, however many
     * the page carried. Idempotent.
     */
    async confirmPage(audienceId: string, runId: string, page: number, writer: SnapshotWriter = {}): Promise<void> {
      await guarded(db, writer.destinationId, (q) =>
        q.query(
          `INSERT INTO audience_snapshot_pages (audience_id, run_id, page) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
          [audienceId, runId, page],
        ),
      );
    },

    /** Marks rows as being removed by `runId`, before the remove is posted. Returns how many rows it marked. */
    async markRemoving(audienceId: string, runId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query(
        `UPDATE audience_snapshots a SET state = 'removing', run_id = $2::uuid
         FROM ${unpackKeysSql('$3', '$4')} t
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = t.f
         RETURNING 1`,
        [audienceId, runId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /**
     * Settles a run once every page succeeded: its rows recorded without a page become sent (paged rows were
     * confirmed with their page), its removing rows go. Idempotent.
     */
    async commitRun(audienceId: string, runId: string): Promise<{ committed: number; removed: number }> {
      return db.transaction(async (tx) => {
        const committed = await tx.query(
          `UPDATE audience_snapshots SET state = 'sent'
           WHERE audience_id = $1 AND run_id = $2 AND state = 'possibly_sent' AND page IS NULL RETURNING 1`,
          [audienceId, runId],
        );
        const removed = await tx.query(
          `DELETE FROM audience_snapshots WHERE audience_id = $1 AND run_id = $2 AND state = 'removing' RETURNING 1`,
          [audienceId, runId],
        );
        return { committed: committed.length, removed: removed.length };
      });
    },

    /** Deletes rows by key (e.g. after a remove page succeeded). Returns how many it deleted. */
    async deleteRows(audienceId: string, keys: readonly SnapshotKey[]): Promise<number> {
      if (keys.length === 0) return 0;
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query(
        `DELETE FROM audience_snapshots a USING ${unpackKeysSql('$2', '$3')} t
         WHERE a.audience_id = $1 AND a.profile_key = t.k AND a.fingerprint = t.f RETURNING 1`,
        [audienceId, profileKeys, fingerprints],
      );
      return rows.length;
    },

    /** Forgets an audience entirely (the destination is deleted). */
    async deleteAudience(audienceId: string): Promise<number> {
      return db.transaction((tx) => forgetAudience(tx, audienceId));
    },

    /**
     * A replace's first batch empties the audience at Meta: its snapshot starts over, under `basis`. The pages this
     * run already recorded are forgotten too, so its retried batch 1 records its rows again.
     */
    async resetAudience(audienceId: string, basis: string, writer: SnapshotWriter = {}): Promise<number> {
      return db.transaction(async (tx) => {
        if (writer.destinationId) await holdDestination(tx, writer.destinationId);
        const n = await forgetAudience(tx, audienceId);
        await putMeta(tx, audienceId, { basis, changeColumn: null, changeWatermark: null });
        return n;
      });
    },

    /** What the audience's snapshot was made under; undefined for an audience never exported (or made before #24). */
    async meta(audienceId: string): Promise<SnapshotMeta | undefined> {
      const [row] = await db.query<{ basis: string; change_column: string | null; change_watermark: string | null }>(
        'SELECT basis, change_column, change_watermark FROM audience_snapshot_meta WHERE audience_id = $1',
        [audienceId],
      );
      return row && { basis: row.basis, changeColumn: row.change_column, changeWatermark: row.change_watermark };
    },

    /** Sets the audience's basis and change watermark. */
    async putMeta(audienceId: string, meta: SnapshotMeta, writer: SnapshotWriter = {}): Promise<void> {
      await guarded(db, writer.destinationId, (q) => putMeta(q, audienceId, meta));
    },

    /** Forgets which pages of a finished run were written whole (they are never retried again). */
    async forgetRecordedPages(runId: string): Promise<void> {
      await db.query('DELETE FROM audience_snapshot_recorded_pages WHERE run_id = $1', [runId]);
    },

    async count(audienceId: string): Promise<SnapshotCounts> {
      const rows = await db.query<{ state: SnapshotState; n: number }>(
        `SELECT ${stateSql('a')} AS state, count(*)::int AS n FROM audience_snapshots a WHERE a.audience_id = $1
         GROUP BY 1`,
        [audienceId],
      );
      const of = (s: SnapshotState) => rows.find((r) => r.state === s)?.n ?? 0;
      const counts = { sent: of('sent'), possiblySent: of('possibly_sent'), removing: of('removing') };
      return { ...counts, total: counts.sent + counts.possiblySent + counts.removing, dropped: of('dropped') };
    },

    /**
     * Fresh statistics of the snapshot table, for the refresh statements that probe it by index. Without them (a
     * first export just wrote 10 million rows and nothing analysed it since: autovacuum off, or PGlite, which has
     * none) PostgreSQL hashed or walked the whole snapshot: a 10M refresh's plan took 70 s instead of 6.5, and its
     * freeze 11 s more. ANALYZE samples a fixed number of rows: about half a second at 10 million.
     */
    async analyze(): Promise<void> {
      await db.query('ANALYZE audience_snapshots');
    },

    /** Whether the audience has any snapshot row (an index probe, where `count` reads them all). */
    async isEmpty(audienceId: string): Promise<boolean> {
      const rows = await db.query('SELECT 1 FROM audience_snapshots WHERE audience_id = $1 LIMIT 1', [audienceId]);
      return rows.length === 0;
    },

    /**
     * Rows of these audiences (any state, dropped ones with no cells) of one of `profileKeys`, or whose cells hold
     * one of the `needles` (hex of bytes: a hash cell is stored as its 32 raw bytes, a plain cell as its UTF-8, so
     * `position` narrows the scan in SQL). The caller checks the column: a needle elsewhere in a row is no match.
     */
    async rowsMatching(
      audienceIds: readonly string[],
      match: { needles: readonly string[]; profileKeys: readonly string[] },
    ): Promise<(SnapshotRow & { audienceId: string; dropped: boolean })[]> {
      if (audienceIds.length === 0 || match.needles.length + match.profileKeys.length === 0) return [];
      const rows = await db.query<{
        audience_id: string;
        profile_key: string;
        fingerprint: Uint8Array;
        cells: Uint8Array;
        dropped: boolean;
      }>(
        `SELECT audience_id, profile_key, fingerprint, cells, state = 'dropped' AS dropped FROM audience_snapshots
         WHERE audience_id = ANY($1::text[])
           AND (profile_key = ANY($3::text[]) OR (state <> 'dropped' AND EXISTS (
             SELECT 1 FROM unnest($2::text[]) AS h(hex) WHERE position(decode(h.hex, 'hex') IN cells) > 0)))`,
        [audienceIds, match.needles, match.profileKeys],
      );
      return rows.map((r) => ({
        audienceId: r.audience_id,
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        cells: r.dropped ? [] : decodeCells(r.cells),
        dropped: r.dropped,
      }));
    },

    /** The stored rows for these keys (missing keys are skipped), with their cells decoded. */
    async read(audienceId: string, keys: readonly SnapshotKey[]): Promise<SnapshotEntry[]> {
      if (keys.length === 0) return [];
      const [profileKeys, fingerprints] = packKeys(keys);
      const rows = await db.query<{
        profile_key: string;
        fingerprint: Uint8Array;
        cells: Uint8Array;
        state: SnapshotState;
        run_id: string;
      }>(
        `SELECT a.profile_key, a.fingerprint, a.cells, ${stateSql('a')} AS state, a.run_id FROM audience_snapshots a
         JOIN ${unpackKeysSql('$2', '$3')} t ON a.profile_key = t.k AND a.fingerprint = t.f
         WHERE a.audience_id = $1 ORDER BY a.profile_key, a.fingerprint`,
        [audienceId, profileKeys, fingerprints],
      );
      return rows.map((r) => ({
        profileKey: r.profile_key,
        fingerprint: toBuffer(r.fingerprint),
        // A dropped member's row has no cells: nothing of it was sent.
        cells: r.state === SnapshotState.Dropped ? [] : decodeCells(r.cells),
        state: r.state,
        runId: r.run_id,
      }));
    },
  };
}

/** Runs `write` holding the writer's destination in one transaction; without a destination, as it is. */
async function guarded<T>(db: Db, destinationId: string | undefined, write: (q: Queryable) => Promise<T>): Promise<T> {
  if (!destinationId) return write(db);
  return db.transaction(async (tx) => {
    await holdDestination(tx, destinationId);
    return write(tx);
  });
}

/** The page's rows less those of people now suppressed, which join its dropped members. */
async function withoutSuppressed(
  q: Queryable,
  record: PageRecord,
  checkedAtSize: number | undefined,
): Promise<{ erased: Set<string>; rows: PageRecord }> {
  const erased = await suppressedProfiles(q, record.sent, checkedAtSize);
  if (erased.size === 0) return { erased, rows: record };
  const isErased = (r: SnapshotRow) => erased.has(r.profileKey);
  return {
    erased,
    rows: {
      sent: record.sent.filter((r) => !isErased(r)),
      dropped: [
        ...record.dropped,
        ...record.sent.filter(isErased).map((r) => ({ profileKey: r.profileKey, fingerprint: r.fingerprint })),
      ],
    },
  };
}

async function forgetAudience(tx: Queryable, audienceId: string): Promise<number> {
  await tx.query('DELETE FROM audience_snapshot_pages WHERE audience_id = $1', [audienceId]);
  await tx.query('DELETE FROM audience_snapshot_recorded_pages WHERE audience_id = $1', [audienceId]);
  await tx.query('DELETE FROM audience_snapshot_meta WHERE audience_id = $1', [audienceId]);
  const [row] = await tx.query<{ n: number }>(
    'WITH d AS (DELETE FROM audience_snapshots WHERE audience_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d',
    [audienceId],
  );
  return row?.n ?? 0;
}

async function putMeta(q: Queryable, audienceId: string, meta: SnapshotMeta): Promise<void> {
  await q.query(
    `INSERT INTO audience_snapshot_meta (audience_id, basis, change_column, change_watermark) VALUES ($1, $2, $3, $4)
     ON CONFLICT (audience_id) DO UPDATE SET basis = EXCLUDED.basis, change_column = EXCLUDED.change_column,
       change_watermark = EXCLUDED.change_watermark, updated_at = now()`,
    [audienceId, meta.basis, meta.changeColumn, meta.changeWatermark],
  );
}

/** Growable bytes: page-sized buffers are written once, without a buffer per row. */
class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * Writes rows possibly sent and dropped members, deduplicated by key and fingerprint (a page can carry one member
 * twice; the last wins). Cells travel as one bytea with offsets, keys as a text[] and fingerprints packed: as
 * hex text arrays, PostgreSQL spent more CPU parsing a page's parameters than inserting its rows. A dropped member
 * never overwrites a row that is (or may be) at Meta.
 */
async function upsertRows(
  db: Queryable,
  audienceId: string,
  runId: string,
  page: number | null,
  sent: readonly SnapshotRow[],
  dropped: readonly SnapshotKey[],
): Promise<number> {
  const rows = lastOfEachKey<SnapshotKey & { cells?: readonly Cell[] }>([...sent, ...dropped]);
  if (rows.length === 0) return 0;
  const [keys, fingerprints] = packKeys(rows);
  const cells = new ByteWriter(rows.length * 450);
  const cellStarts: number[] = [];
  const cellLengths: number[] = [];
  for (const r of rows) {
    cellStarts.push(cells.pos);
    if (r.cells !== undefined) {
      cells.ensure(cellsBound(r.cells));
      cells.pos = writeCells(cells.buf, cells.pos, r.cells);
    }
    cellLengths.push(cells.pos - cellStarts[cellStarts.length - 1]!);
  }
  const states = rows.map((r) => (r.cells === undefined ? 'dropped' : 'possibly_sent'));
  const result = await db.query<{ n: number }>(
    `WITH input AS (
       SELECT t.k, ${fingerprintAtSql('$5', 't.i')} AS f, substring($6::bytea from t.cell_at + 1 for t.cell_length) AS c,
              t.s
       FROM unnest($4::text[], $7::int4[], $8::int4[], $9::text[]) WITH ORDINALITY AS t(k, cell_at, cell_length, s, i)
     ), written AS (
       INSERT INTO audience_snapshots AS a (audience_id, profile_key, fingerprint, cells, state, run_id, page)
       SELECT $1, k, f, c, s, $2::uuid, $3::int FROM input
       ON CONFLICT (audience_id, profile_key, fingerprint) DO UPDATE SET cells = EXCLUDED.cells,
         run_id = EXCLUDED.run_id, page = EXCLUDED.page,
         state = CASE WHEN EXCLUDED.state = 'dropped' THEN 'dropped'
                      WHEN ${confirmedSentSql('a')} THEN 'sent' ELSE 'possibly_sent' END
       WHERE EXCLUDED.state <> 'dropped' OR a.state = 'dropped'
       RETURNING 1
     ) SELECT count(*)::int AS n FROM written`,
    [audienceId, runId, page, keys, fingerprints, cells.done(), cellStarts, cellLengths, states],
  );
  return result[0]?.n ?? 0;
}

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const STATE_BYTES = { possibly_sent: Buffer.from('possibly_sent'), dropped: Buffer.from('dropped') } as const;

/**
 * Writes a fresh page with one `COPY ... (FORMAT binary)`: each row's cells are encoded straight into the stream,
 * digests as their 32 bytes. About half the database's CPU of the upsert, whose unique-index probe and conflict
 * handling a fresh page does not need.
 */
async function copyRows(tx: Queryable, audienceId: string, runId: string, page: number, record: PageRecord) {
  const rows = lastOfEachKey<SnapshotKey & { cells?: readonly Cell[] }>([...record.sent, ...record.dropped]);
  const audience = Buffer.from(audienceId, 'utf8');
  const run = Buffer.from(runId.replaceAll('-', ''), 'hex');
  if (run.length !== 16) throw new RangeError('a run id is a UUID');
  const w = new ByteWriter(19 + rows.length * 560);
  w.buf.set(COPY_SIGNATURE, 0);
  w.buf.writeInt32BE(0, 11); // flags
  w.buf.writeInt32BE(0, 15); // header extension length
  w.pos = 19;
  const field = (bytes: Uint8Array) => {
    w.ensure(4 + bytes.length);
    w.pos = w.buf.writeInt32BE(bytes.length, w.pos);
    w.buf.set(bytes, w.pos);
    w.pos += bytes.length;
  };
  for (const r of rows) {
    if (r.fingerprint.byteLength !== FINGERPRINT_BYTES)
      throw new RangeError(`a snapshot fingerprint has ${FINGERPRINT_BYTES} bytes, got ${r.fingerprint.byteLength}`);
    w.ensure(2);
    w.pos = w.buf.writeInt16BE(7, w.pos);
    field(audience);
    const keyLength = Buffer.byteLength(r.profileKey, 'utf8');
    w.ensure(4 + keyLength);
    w.pos = w.buf.writeInt32BE(keyLength, w.pos);
    w.pos += w.buf.write(r.profileKey, w.pos, 'utf8');
    field(r.fingerprint);
    if (r.cells === undefined) field(EMPTY);
    else {
      w.ensure(4 + cellsBound(r.cells));
      const lengthAt = w.pos;
      w.pos = writeCells(w.buf, w.pos + 4, r.cells);
      w.buf.writeInt32BE(w.pos - lengthAt - 4, lengthAt);
    }
    field(r.cells === undefined ? STATE_BYTES.dropped : STATE_BYTES.possibly_sent);
    field(run);
    w.ensure(8);
    w.pos = w.buf.writeInt32BE(4, w.pos);
    w.pos = w.buf.writeInt32BE(page, w.pos);
  }
  w.ensure(2);
  w.pos = w.buf.writeInt16BE(-1, w.pos);
  await tx.copyFrom!(
    'COPY audience_snapshots (audience_id, profile_key, fingerprint, cells, state, run_id, page) FROM STDIN (FORMAT binary)',
    w.done(),
  );
}

const EMPTY = new Uint8Array(0);
