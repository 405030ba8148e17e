import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/api/app.js';
import { createLogger } from '../src/logger.js';
import type { Db } from '../src/store/db.js';
import { auth, testDeps } from './support/api-harness.js';
import { connectTemporal, openTestDb } from './support/context.js';

const PROFILE_KEY = 'profile-4711-jane.doe@example.org';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, stream };
}

describe('logger: errors without their data, OAuth secrets redacted', () => {
  let db: Db;
  let uniqueViolation: Error;

  beforeAll(async () => {
    db = await openTestDb();
    await db.query('CREATE TABLE IF NOT EXISTS log_keys (k text PRIMARY KEY)');
    await db.query('INSERT INTO log_keys VALUES ($1) ON CONFLICT DO NOTHING', [PROFILE_KEY]);
    uniqueViolation = (await db
      .query('INSERT INTO log_keys VALUES ($1)', [PROFILE_KEY])
      .catch((e: unknown) => e)) as Error;
  });
  afterAll(async () => {
    await db?.query('DROP TABLE IF EXISTS log_keys');
    await db?.close();
  });

  it("drops PostgreSQL's detail and where from an error, and from an error it caused", () => {
    // What PostgreSQL says: the key in the detail.
    expect((uniqueViolation as { detail?: string }).detail).toContain(PROFILE_KEY);
    const { lines, stream } = capture();
    const log = createLogger('info', 'test', stream);
    log.error({ err: uniqueViolation }, 'write failed');
    log.error({ err: new Error('snapshot write failed', { cause: uniqueViolation }) }, 'wrapped');
    const [direct, wrapped] = lines.map((l) => JSON.parse(l) as { err: Record<string, unknown> });
    expect(direct!.err).toMatchObject({ code: '23505', message: expect.stringMatching(/duplicate key value/) });
    expect(direct!.err).not.toHaveProperty('detail');
    expect(direct!.err).not.toHaveProperty('where');
    expect((wrapped!.err.cause as Record<string, unknown>).code).toBe('23505');
    expect(lines.join('\n')).not.toContain(PROFILE_KEY);
  });

  it('redacts client_secret, code, state, input_token and fb_exchange_token', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', 'test', stream);
    const secrets = { client_secret: 's1', code: 'c1', state: 's2', input_token: 't1', fb_exchange_token: 't2' };
    log.info(secrets, 'top level');
    log.info({ query: { code: 'c2', state: 's3' }, params: secrets }, 'nested');
    log.info({ err: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }, 'an error code stays');
    const text = lines.join('\n');
    for (const v of ['s1', 'c1', 's2', 't1', 't2', 'c2', 's3']) expect(text).not.toContain(`"${v}"`);
    expect(text).toContain('"ECONNRESET"');
  });

  it("logs the API's unexpected errors through that serializer", async () => {
    const temporal = await connectTemporal();
    const { lines, stream } = capture();
    const deps = await testDeps({ db, temporalClient: temporal.client, tables: 'log_api', profiles: 5 });
    const app = await buildApp({
      ...deps,
      logger: createLogger('info', 'api', stream),
      // A real PostgreSQL error from a real query, raised where the API does not expect one.
      source: { ...deps.source, listAttributes: () => db.query('INSERT INTO log_keys VALUES ($1)', [PROFILE_KEY]) },
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/profile-source/attributes', headers: auth });
      expect(res.statusCode).toBe(500);
      const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request failed');
      expect(failed).toMatchObject({ err: { code: '23505' } });
      expect(lines.join('\n')).not.toContain(PROFILE_KEY);
    } finally {
      await app.close();
      await temporal.close();
    }
  });
});
