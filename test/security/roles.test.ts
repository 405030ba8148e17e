import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { createStore, type Store } from '../../src/store/index.js';
import {
  API_KEY,
  NO_RATE_LIMITS,
  OPERATOR_KEY,
  operatorAuth,
  testConfig,
  testDeps,
  VIEWER_KEY,
  viewerAuth,
} from '../support/api-harness.js';
import { connectTemporal } from '../support/context.js';
import { openPrivateDb } from './private-db.js';
import { capturingLogger } from './stack.js';

const DPO_KEY = 'dpo-admin-key-0123456789abcdef-0123456789';
const dpoAuth = { authorization: `Bearer ${DPO_KEY}` };

/** What each role may do, written out from the issue (not read from src/api/access-policy.ts). */
const ADMIN_ONLY = [
  'POST /destinations',
  'PATCH /destinations/{id}',
  'DELETE /destinations/{id}',
  'GET /destinations/{id}/facebook/connect',
  'PUT /destinations/{id}/facebook/token',
  'POST /destinations/{id}/consent',
  'DELETE /destinations/{id}/consent',
  'POST /erasure-requests',
];
const OPERATOR = [
  'PUT /destinations/{id}/export-config',
  'POST /destinations/{id}/export-config/preview',
  'POST /destinations/{id}/exports',
  'POST /exports/{runId}/cancel',
  'PUT /destinations/{id}/schedule',
  'DELETE /destinations/{id}/schedule',
  'POST /destinations/{id}/schedule/pause',
  'POST /destinations/{id}/schedule/resume',
  'POST /destinations/{id}/schedule/trigger',
  'POST /refresh',
];

describe('roles: admin, operator and viewer keys', () => {
  let priv: Awaited<ReturnType<typeof openPrivateDb>>;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let store: Store;
  const lines: string[] = [];

  beforeAll(async () => {
    priv = await openPrivateDb('sec_roles');
    temporal = await connectTemporal();
    const config = testConfig({
      ...NO_RATE_LIMITS,
      API_KEYS: `operator:operator:${OPERATOR_KEY},viewer:viewer:${VIEWER_KEY},dpo:admin:${DPO_KEY},${API_KEY}`,
    });
    store = createStore(priv.db, { encryptionKey: config.encryptionKey });
    app = await buildApp(
      await testDeps({
        config,
        db: priv.db,
        temporalClient: temporal.client,
        tables: 'roles',
        profiles: 20,
        logger: capturingLogger(lines, 'roles'),
      }),
    );
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
    await priv?.drop();
  });

  it('refuses with 403 what a role may not do, on every route of the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    }>();
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ route: `${m.toUpperCase()} ${path}`, op })),
    );
    const listed = new Set(routes.map((r) => r.route));
    for (const r of [...ADMIN_ONLY, ...OPERATOR]) expect(listed, r).toContain(r);

    const roleOf = (route: string) =>
      ADMIN_ONLY.includes(route)
        ? 'admin'
        : OPERATOR.includes(route)
          ? 'operator'
          : route.startsWith('GET ')
            ? 'viewer'
            : 'admin';
    let refused = 0;
    for (const { route, op } of routes) {
      if (route === 'GET /health' || route === 'GET /facebook/callback') continue;
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{[^}]+\}/g, randomUUID());
      const needed = roleOf(route);
      for (const [role, headers] of [
        ['viewer', viewerAuth],
        ['operator', operatorAuth],
      ] as const) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
        });
        const allowed = needed === 'viewer' || (needed === 'operator' && role === 'operator');
        if (allowed) {
          expect(res.statusCode, `${role} ${route}`).not.toBe(403);
          continue;
        }
        expect(res.statusCode, `${role} ${route}`).toBe(403);
        expect(res.json(), `${role} ${route}`).toMatchObject({
          type: '/problems/forbidden',
          detail: `${method} ${path.replace(/\{(\w+)\}/g, ':$1')} needs an ${needed} key; key ${role} is ${role === 'viewer' ? 'a' : 'an'} ${role} key.`,
          errors: [{ field: 'headers.authorization', message: `role ${role} may not do this` }],
        });
        refused++;
      }
      // The document says which routes refuse a lower role.
      expect(Object.keys(op.responses).includes('403'), route).toBe(needed !== 'viewer');
    }
    expect(refused).toBeGreaterThan(20);
    // An admin key, named or bare, is never refused for its role.
    for (const headers of [dpoAuth, { authorization: `Bearer ${API_KEY}` }]) {
      const res = await app.inject({ method: 'POST', url: '/erasure-requests', headers, payload: {} });
      expect(res.statusCode).toBe(400);
    }
  });

  it('lets a viewer read and scrape /metrics, and an operator run what is exported', async () => {
    expect((await app.inject({ method: 'GET', url: '/destinations', headers: viewerAuth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics', headers: viewerAuth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'HEAD', url: '/destinations', headers: viewerAuth })).statusCode).toBe(200);
    const d = await store.destinations.create({ displayName: 'ops', facebookAppId: '1', adAccountId: null });
    const config = await app.inject({
      method: 'PUT',
      url: `/destinations/${d.id}/export-config`,
      headers: operatorAuth,
      payload: { keyIdentifier: 'EMAIL', mapping: { EMAIL: { attribute: 'email' } }, segments: ['all'] },
    });
    expect(config.statusCode).toBe(200);
  });

  it("records the calling key's name with consent given and withdrawn, and in the log lines", async () => {
    const d = await store.destinations.create({ displayName: 'consent', facebookAppId: '1', adAccountId: null });
    const given = await app.inject({
      method: 'POST',
      url: `/destinations/${d.id}/consent`,
      headers: dpoAuth,
      payload: { givenBy: 'Jo from legal', statementVersion: '2026-01' },
    });
    expect(given.statusCode).toBe(201);
    expect(given.json()).toMatchObject({ givenBy: 'Jo from legal', givenByKey: 'dpo', withdrawnByKey: null });
    const withdrawn = await app.inject({
      method: 'DELETE',
      url: `/destinations/${d.id}/consent?withdrawnBy=someone`,
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(withdrawn.statusCode).toBe(200);
    const [record] = await store.consents.history(d.id);
    expect(record).toMatchObject({ givenByKey: 'dpo', withdrawnBy: 'someone' });
    expect(record!.withdrawnByKey).toMatch(/^key-[0-9a-f]{8}$/);

    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'consent given', apiKey: 'dpo', destinationId: d.id }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'consent withdrawn', apiKey: record!.withdrawnByKey, destinationId: d.id }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'request', apiKey: 'dpo', route: '/destinations/:id/consent', status: 201 }),
    );
    // Names only: no secret of any key in any line.
    for (const secret of [DPO_KEY, API_KEY, OPERATOR_KEY, VIEWER_KEY]) expect(lines.join('\n')).not.toContain(secret);
  });
});
