import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../store/index.js';

/** Lines are grouped into chunks of about this many characters before they go to the database. */
const CHUNK_CHARS = 1 << 20;

function* chunks(lines: Iterable<string>, chunkChars: number): Generator<string> {
  let buffer = '';
  for (const line of lines) {
    buffer += line;
    if (buffer.length >= chunkChars) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

/**
 * Bulk-loads COPY text lines (each ending in a newline) into `tableSql (columnsSql)`: a COPY stream on
 * PostgreSQL, and PGlite's COPY from a blob in chunks (PGlite keeps a whole blob in memory, so chunks stay small).
 * Both names must already be quoted.
 */
export async function copyRows(db: Db, tableSql: string, columnsSql: string, lines: Iterable<string>): Promise<void> {
  const sql = `COPY ${tableSql} (${columnsSql}) FROM STDIN`;
  if (db.pool) {
    const client = await db.pool.connect();
    try {
      await pipeline(Readable.from(chunks(lines, CHUNK_CHARS)), client.query(copyFrom(sql)));
    } finally {
      client.release();
    }
    return;
  }
  if (!db.pglite) throw new TypeError('copyRows needs PostgreSQL (pool) or PGlite');
  for (const chunk of chunks(lines, CHUNK_CHARS * 4)) {
    await db.pglite.query(`COPY ${tableSql} (${columnsSql}) FROM '/dev/blob'`, [], { blob: new Blob([chunk]) });
  }
}
