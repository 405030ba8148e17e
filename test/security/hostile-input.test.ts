import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { SourceConfigError } from '../../src/sources/errors.js';
import { createProfileSource } from '../../src/sources/profile-source.js';
import { demoSourceConfig, seedDemoProfiles } from '../../src/demo/demo-seed.js';
import { createStore } from '../../src/store/index.js';
import { auth, NO_RATE_LIMITS, testConfig, testDeps } from '../support/api-harness.js';
import { connectTemporal } from '../support/context.js';
import { pick, seededRandom, type Random } from '../support/seeded-random.js';
import { HOSTILE_STRINGS, hostileValue } from './fuzz.js';
import { openPrivateDb, tableChecksum } from './private-db.js';

const PER_ROUTE = process.env.FAULTS_FULL === '1' ? 300 : 50;
const SEED = Number(process.env.FUZZ_SEED ?? 17);
const HUGE_BODY = 'x'.repeat(1024 * 1024 + 10);

interface Route {
  method: string;
  path: string;
  query: string[];
  body: Record<string, unknown> | undefined;
}

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: unknown }>>;
}

function routesOf(doc: OpenApi): Route[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => {
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: object } }> } | undefined)
        ?.content?.['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        body: schema ? ((schema.properties ?? {}) as Record<string, unknown>) : undefined,
      };
    }),
  );
}

describe('hostile input to every route of the OpenAPI document', () => {
  let priv: Awaited<ReturnType<typeof openPrivateDb>>;
  let sandbox: Sandbox;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let destinationId: string;

  beforeAll(async () => {
    priv = await openPrivateDb('sec_fuzz');
    sandbox = await startSandbox({ port: 0 });
    temporal = await connectTemporal();
    const f = sandbox.fixtures;
    const config = testConfig({
      ...NO_RATE_LIMITS,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
    });
    const deps = await testDeps({
      config,
      db: priv.db,
      temporalClient: temporal.client,
      graph: createGraphClient({ ...config.facebook, timeoutMs: 5_000 }),
      tables: 'fuzz',
      profiles: 50,
    });
    app = await buildApp(deps);
    // One real destination (no token, no consent), so some hostile requests reach past the id check.
    destinationId = (
      await createStore(priv.db, { encryptionKey: config.encryptionKey }).destinations.create({
        displayName: 'fuzz target',
        facebookAppId: f.appId,
        adAccountId: f.adAccountId,
        audienceId: null,
        newAudienceName: 'fuzz audience',
      })
    ).id;
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.close();
    await sandbox?.close();
    await priv?.drop();
  });

  function hostileRequest(rnd: Random, route: Route): InjectOptions {
    const idPool = [...HOSTILE_STRINGS.filter((s) => s.length < 2_000), destinationId, crypto.randomUUID()];
    // A DELETE through the one real id would end the fuzzing of everything behind it.
    const id = () => (route.method === 'DELETE' ? pick(rnd, HOSTILE_STRINGS.slice(0, 20)) : pick(rnd, idPool));
    const url = route.path.replace(/\{(\w+)\}/g, () => {
      const v = id();
      return rnd() < 0.15
        ? [...v].filter((c) => c.charCodeAt(0) > 32 && c !== '?' && c !== '#').join('')
        : encodeURIComponent(v);
    });
    const query: Record<string, string> = {};
    for (const name of [...route.query, 'unknown', '__proto__']) {
      if (rnd() < 0.5) query[name] = String(pick(rnd, HOSTILE_STRINGS)).slice(0, 4_000);
    }
    const headers: Record<string, string> = rnd() < 0.1 ? {} : { ...auth };
    if (rnd() < 0.05) headers.authorization = `Bearer ${pick(rnd, HOSTILE_STRINGS).slice(0, 200)}`;
    if (rnd() < 0.05) headers['x-forwarded-for'] = "127.0.0.1'; --";
    const base = { method: route.method as InjectOptions['method'], url, query, headers };

    const r = rnd();
    if (r < 0.08) return { ...base, headers: { ...headers, 'content-type': 'application/json' }, payload: HUGE_BODY };
    if (r < 0.16) return { ...base, headers: { ...headers, 'content-type': 'application/json' }, payload: '{"a": [1,' };
    if (r < 0.22) return { ...base, headers: { ...headers, 'content-type': 'text/plain' }, payload: "'; DROP TABLE x" };
    if (r < 0.27)
      return { ...base, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' };
    if (r < 0.35) return { ...base, payload: hostileValue(rnd) as object };
    const body: Record<string, unknown> = {};
    for (const field of Object.keys(route.body ?? {})) if (rnd() < 0.8) body[field] = hostileValue(rnd);
    if (rnd() < 0.4) body[pick(rnd, ['unknown', '__proto__', 'constructor', 'isAdmin'])] = hostileValue(rnd);
    if (!route.body && rnd() < 0.5) return base;
    return { ...base, payload: body };
  }

  it('answers every request with a problem+json 4xx or a documented success, and refused requests change nothing', async () => {
    const docs = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    const routes = routesOf(docs.json<OpenApi>());
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toContain('POST /erasure-requests');

    const rnd = seededRandom(SEED);
    let sent = 0;
    const fiveXx: string[] = [];
    const notProblem: string[] = [];
    const changedByRefusal: string[] = [];
    const statuses = new Map<number, number>();
    let checksum = await tableChecksum(priv.db);
    for (const route of routes) {
      for (let i = 0; i < PER_ROUTE; i++) {
        const req = hostileRequest(rnd, route);
        const res = await app.inject(req);
        sent++;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const label = `${route.method} ${route.path} #${i} -> ${res.statusCode}`;
        if (res.statusCode >= 500) fiveXx.push(`${label}: ${res.body.slice(0, 300)}`);
        const after = await tableChecksum(priv.db);
        if (res.statusCode >= 400) {
          const type = String(res.headers['content-type'] ?? '');
          // Facebook's redirect is opened by a browser: its refusals are HTML pages (#28), every other route's problems.
          if (route.path === '/facebook/callback') {
            if (!type.startsWith('text/html')) notProblem.push(`${label}: ${type}`);
          } else {
            const problem = type.startsWith('application/problem+json') ? res.json<{ status?: number }>() : undefined;
            if (problem?.status !== res.statusCode) notProblem.push(`${label}: ${type}`);
          }
          if (after !== checksum) changedByRefusal.push(label);
        }
        checksum = after;
      }
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    console.log(
      `fuzz: ${sent} requests over ${routes.length} routes (seed ${SEED}); 5xx: ${fiveXx.length}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(sent).toBeGreaterThanOrEqual(1_000);
    expect(fiveXx).toEqual([]);
    expect(notProblem).toEqual([]);
    expect(changedByRefusal).toEqual([]);
    expect(health.statusCode).toBeLessThan(500);
  }, 600_000);

  it('keeps hostile text verbatim as data, never as SQL', async () => {
    for (const name of ["'; DROP TABLE destinations; --", "Robert'); DELETE FROM credentials; --", 'x\u202e😀']) {
      const res = await app.inject({
        method: 'POST',
        url: '/destinations',
        headers: auth,
        payload: { displayName: name, adAccountId: 'act_1', newAudienceName: name },
      });
      expect(res.statusCode).toBe(201);
      const got = await app.inject({
        method: 'GET',
        url: `/destinations/${res.json<{ id: string }>().id}`,
        headers: auth,
      });
      expect(got.json<{ displayName: string }>().displayName).toBe(name);
    }
    const nul = await app.inject({
      method: 'POST',
      url: '/destinations',
      headers: auth,
      payload: { displayName: 'a\u0000b', adAccountId: 'act_1', newAudienceName: 'n' },
    });
    // PostgreSQL text cannot hold U+0000: refused by field, not a 500 from the store.
    expect(nul.statusCode).toBe(400);
    expect(nul.json()).toMatchObject({ errors: [{ field: 'body.displayName', message: 'contains a NUL character' }] });
  });

  it('refuses hostile table, column and segment configuration before any of it runs', async () => {
    const db = priv.db;
    await seedDemoProfiles(db, { profilesTable: 'cfg_profiles', membersTable: 'cfg_members', profiles: 20 });
    const good = demoSourceConfig({ profilesTable: 'cfg_profiles', membersTable: 'cfg_members' });
    const before = await tableChecksum(db);
    const badNames = [
      'cfg_profiles; DROP TABLE destinations',
      'cfg_profiles" ; DROP TABLE destinations; --',
      '../../etc/passwd',
      'public.cfg_profiles.extra',
      'pg_catalog.pg_authid x',
      'cfg_profiles\u0000',
      '%2e%2e',
      'a'.repeat(64),
      '',
    ];
    const configs: unknown[] = [
      ...badNames.map((profilesTable) => ({ ...good, profilesTable })),
      ...badNames.map((keyColumn) => ({ ...good, keyColumn })),
      ...badNames.map((stagingSchema) => ({ ...good, stagingSchema })),
      ...badNames.map((table) => ({ ...good, membership: { ...good.membership, table } })),
      { ...good, profilesTable: 'no_such_table' },
      { ...good, keyColumn: 'no_such_column' },
    ];
    const conditions = [
      "country = 'US'; DROP TABLE destinations",
      "country = 'US' -- and the rest",
      "country = 'US' /* hidden */",
      'true) OR (true',
      'true) UNION SELECT token_sealed FROM credentials WHERE (true',
      '$$x$$ = $$x$$',
      "country = E'\\x27'",
      "country = 'unterminated",
      '(WITH d AS (DELETE FROM destinations RETURNING 1) SELECT count(*) FROM d) > 0',
      'EXISTS (SELECT 1 FROM (DELETE FROM credentials RETURNING 1) d)',
      'no_such_column = 1',
      '1',
      'a\u0000b',
      'x'.repeat(5_000),
    ];
    for (const c of conditions) configs.push({ ...good, membership: { kind: 'conditions', segments: { s: c } } });
    configs.push({ ...good, membership: { kind: 'conditions', segments: { "x'; DROP TABLE y; --": 'true' } } });
    for (const config of configs) {
      await expect(createProfileSource(db, config as never)).rejects.toBeInstanceOf(SourceConfigError);
    }
    expect(await tableChecksum(db)).toBe(before);
  });
});
