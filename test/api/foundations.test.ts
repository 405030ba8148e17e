import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { openDb, type Db } from '../../src/store/db.js';
import { createStore } from '../../src/store/index.js';
import { connectTemporal, openTestDb, testDatabaseUrl } from '../support/context.js';
import { API_KEY, auth, buildTestApp, testDeps } from '../support/api-harness.js';

describe('API foundations', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let baseUrl: string;
  let deps: ApiDeps;

  beforeAll(async () => {
    db = await openTestDb();
    temporal = await connectTemporal();
    deps = await testDeps({ db, temporalClient: temporal.client, tables: 'api_found' });
    app = await buildTestApp(deps);
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await temporal.close();
    await db.close();
  });

  it('reports health without a key when the database and Temporal answer', async () => {
    const res = await request(`${baseUrl}/health`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('answers 503 naming the database when it is unreachable', async () => {
    const deadDb = await openDb({ url: 'postgres://postgres@127.0.0.1:1/nowhere', maxConnections: 1 });
    const sick = await buildTestApp({ ...deps, store: createStore(deadDb, { encryptionKey: undefined }) });
    try {
      const res = await sick.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 503, errors: [{ field: 'database', message: 'unreachable' }] });
    } finally {
      await sick.close();
      await deadDb.close();
    }
  });

  it('answers 503 naming Temporal when it is unreachable', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 });
    const sick = await buildTestApp({ ...deps, temporalClient: new Client({ connection }) });
    try {
      const res = await sick.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json().errors).toEqual([{ field: 'temporal', message: 'unreachable' }]);
    } finally {
      await sick.close();
    }
  });

  it('answers an unexpected failure with a generic 500 that leaks nothing', async () => {
    // A real failure: a store over a schema without our tables makes PostgreSQL raise "relation ... does not exist".
    await db.query('CREATE SCHEMA IF NOT EXISTS api_empty');
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c search_path=api_empty');
    const emptyDb = await openDb({ url: url.toString(), maxConnections: 1 });
    const broken = await buildTestApp({ ...deps, store: createStore(emptyDb, { encryptionKey: undefined }) });
    try {
      const res = await broken.inject({ method: 'GET', url: '/destinations', headers: auth });
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json<{ type: string; detail: string }>();
      expect(body.type).toBe('/problems/internal');
      expect(body.detail).toMatch(/^Something went wrong on our side\. Quote request id \S+ when you report it\.$/);
      expect(res.body).not.toMatch(/relation|does not exist|api_empty|\.ts:/);
    } finally {
      await broken.close();
      await emptyDb.close();
    }
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const doc = await request(`${baseUrl}/docs/json`);
    expect(doc.statusCode).toBe(200);
    const json = (await doc.body.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(json.openapi).toMatch(/^3\./);
    expect(Object.keys(json.paths)).toEqual(expect.arrayContaining(['/health', '/destinations', '/destinations/{id}']));
    const ui = await request(`${baseUrl}/docs/`);
    expect(ui.statusCode).toBe(200);
    expect(await ui.body.text()).toContain('swagger');
  });

  it.each([
    ['no key', {}, 'missing'],
    ['a wrong key', { authorization: 'Bearer wrong-key-0000000000000000' }, 'unknown API key'],
    ['a non-bearer credential', { authorization: `Basic ${API_KEY}` }, 'not a Bearer credential'],
  ])('refuses %s with 401 problem+json naming the header', async (_label, headers, message) => {
    const res = await request(`${baseUrl}/destinations`, { headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ type: '/problems/unauthorized', status: 401, instance: '/destinations' });
    expect(body.errors).toEqual([{ field: 'headers.authorization', message }]);
    expect(JSON.stringify(body)).not.toContain(API_KEY);
  });

  it('answers unknown routes with a 404 problem when the key is right', async () => {
    const res = await request(`${baseUrl}/nothing-here?secret=x`, { headers: auth });
    expect(res.statusCode).toBe(404);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 404, instance: '/nothing-here', errors: [{ field: 'url' }] });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});
