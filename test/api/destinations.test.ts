import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleIdOf } from '../../src/api/services/temporal-control.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { searchAttributes } from '../../src/workflows/search-attributes.js';
import { connectTemporal, openTestDb, uniqueTaskQueue } from '../support/context.js';
import { auth, buildTestApp, testDeps } from '../support/api-harness.js';

const json = { ...auth, 'content-type': 'application/json' };
interface DestinationDto {
  id: string;
  audienceId: string | null;
  [k: string]: unknown;
}
interface PageDto {
  items: DestinationDto[];
  nextCursor: string | null;
}
let audienceSeq = 100_000 + Math.floor(Math.random() * 1_000_000);
const nextAudienceId = () => String(++audienceSeq);

describe('destinations', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let baseUrl: string;

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db);
    temporal = await connectTemporal();
    app = await buildTestApp(await testDeps({ db, temporalClient: temporal.client, tables: 'api_dest' }));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await temporal.close();
    await db.close();
  });

  async function create(body: Record<string, unknown>) {
    const res = await request(`${baseUrl}/destinations`, { method: 'POST', headers: json, body: JSON.stringify(body) });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as DestinationDto };
  }

  it('creates, lists in pages, gets, updates and deletes a destination over HTTP', async () => {
    const created = await create({ displayName: 'VIP buyers', adAccountId: '1234567', audienceId: nextAudienceId() });
    expect(created.status).toBe(201);
    // Chosen account and audience, but neither Facebook connected nor consent given: not active.
    expect(created.body).toMatchObject({
      displayName: 'VIP buyers',
      adAccountId: 'act_1234567',
      status: 'not_connected',
    });
    const id = created.body.id;
    const second = await create({ displayName: 'Churn risk', adAccountId: 'act_1234567', newAudienceName: 'Churn' });
    expect(second.status).toBe(201);

    const page1 = (await (await request(`${baseUrl}/destinations?limit=1`, { headers: auth })).body.json()) as PageDto;
    expect(page1.items).toHaveLength(1);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await (
      await request(`${baseUrl}/destinations?limit=500&cursor=${page1.nextCursor}`, { headers: auth })
    ).body.json()) as PageDto;
    expect(page2.items.map((d) => d.id)).not.toContain(page1.items[0]!.id);

    const got = await request(`${baseUrl}/destinations/${id}`, { headers: auth });
    expect(got.statusCode).toBe(200);
    expect(await got.body.json()).toMatchObject({
      id,
      connection: { status: 'not_connected', expiresAt: null },
      consent: null,
    });

    const patched = await request(`${baseUrl}/destinations/${id}`, {
      method: 'PATCH',
      headers: json,
      body: JSON.stringify({ displayName: 'VIP buyers (EU)' }),
    });
    expect(patched.statusCode).toBe(200);
    expect(await patched.body.json()).toMatchObject({ id, displayName: 'VIP buyers (EU)' });

    const deleted = await request(`${baseUrl}/destinations/${id}`, { method: 'DELETE', headers: auth });
    expect(deleted.statusCode).toBe(204);
    await deleted.body.dump();
    const gone = await request(`${baseUrl}/destinations/${id}`, { headers: auth });
    expect(gone.statusCode).toBe(404);
    expect(await gone.body.json()).toMatchObject({ errors: [{ field: 'params.id', message: 'no such destination' }] });
    // An export of it answers as its OpenAPI text says: gone, 404.
    const exported = await request(`${baseUrl}/destinations/${id}/exports`, { method: 'POST', headers: auth });
    expect(exported.statusCode).toBe(404);
    expect(exported.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await exported.body.json()).toMatchObject({
      errors: [{ field: 'params.id', message: 'no such destination' }],
    });
    const doc = (await (await request(`${baseUrl}/docs/json`)).body.json()) as {
      paths: Record<string, { post?: { description?: string; responses: Record<string, { description: string }> } }>;
    };
    // While it is being deleted (the row still there, marked deleted), the answer is 409.
    const other = (await create({ displayName: 'Being deleted', adAccountId: '1234567', audienceId: nextAudienceId() }))
      .body.id;
    await db.query("UPDATE destinations SET status = 'deleted' WHERE id = $1", [other]);
    const deleting = await request(`${baseUrl}/destinations/${other}/exports`, { method: 'POST', headers: auth });
    expect(deleting.statusCode).toBe(409);
    expect(await deleting.body.json()).toMatchObject({
      errors: [{ field: 'params.id', message: 'destination deleted' }],
    });
    const route = doc.paths['/destinations/{id}/exports']!.post!;
    expect(route.description).toMatch(/once deleted it is gone \(404\)/);
    expect(route.responses['404']!.description).toMatch(/deleted destination is gone/);
  });

  it('delete cancels the running exports of the destination and deletes its schedule', async () => {
    const { body } = await create({ displayName: 'To delete', adAccountId: 'act_42', audienceId: nextAudienceId() });
    const id = body.id;
    const taskQueue = uniqueTaskQueue('api-delete'); // no worker: the workflow stays running
    const handle = await temporal.client.workflow
      .start('exportSegment', {
        taskQueue,
        workflowId: `export:act_42:${body.audienceId}`,
        typedSearchAttributes: [{ key: searchAttributes.destinationId, value: id }],
      })
      .catch((err) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new Error('stale workflow id');
        throw err;
      });
    await temporal.client.schedule.create({
      scheduleId: scheduleIdOf(id),
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'exportSegment', taskQueue },
      state: { paused: true },
    });
    // Visibility is eventually consistent: wait until the list the API uses can see the run.
    const query = `DestinationId = '${id}' AND ExecutionStatus = 'Running'`;
    await expect.poll(async () => (await temporal.client.workflow.count(query)).count, { timeout: 10_000 }).toBe(1);

    const res = await request(`${baseUrl}/destinations/${id}`, { method: 'DELETE', headers: auth });
    expect(res.statusCode).toBe(204);
    await res.body.dump();

    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    await expect(temporal.client.schedule.getHandle(scheduleIdOf(id)).describe()).rejects.toThrow(/not found/i);
    await handle.terminate('test cleanup');
  });

  it('refuses a second destination on the same audience with 409 naming audienceId', async () => {
    const audienceId = nextAudienceId();
    expect((await create({ displayName: 'One', adAccountId: 'act_7', audienceId })).status).toBe(201);
    const again = await create({ displayName: 'Two', adAccountId: '7', audienceId });
    expect(again.status).toBe(409);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.body).toMatchObject({ status: 409, errors: [{ field: 'body.audienceId' }] });
  });

  const big = JSON.stringify({ displayName: 'x'.repeat(1024 * 1024 + 10), adAccountId: '1', newAudienceName: 'n' });
  it.each([
    ['malformed JSON', 'POST', '/destinations', '{"displayName": ', 'application/json', 400, 'body'],
    ['an empty JSON body', 'POST', '/destinations', '', 'application/json', 400, 'body'],
    ['an oversized body', 'POST', '/destinations', big, 'application/json', 413, 'body'],
    ['a non-JSON media type', 'POST', '/destinations', 'displayName=x', 'text/plain', 415, 'headers.content-type'],
    [
      'an unknown field',
      'POST',
      '/destinations',
      JSON.stringify({ displayName: 'x', adAccountId: '1', newAudienceName: 'n', token: 'EAAB' }),
      'application/json',
      400,
      'body.token',
    ],
    [
      'a bad ad account id',
      'POST',
      '/destinations',
      JSON.stringify({ displayName: 'x', adAccountId: 'acct-1', newAudienceName: 'n' }),
      'application/json',
      400,
      'body.adAccountId',
    ],
    [
      'both an audience id and a name',
      'POST',
      '/destinations',
      JSON.stringify({ displayName: 'x', adAccountId: '1', audienceId: '2', newAudienceName: 'n' }),
      'application/json',
      400,
      'body.audienceId',
    ],
    [
      'an audience without its ad account',
      'POST',
      '/destinations',
      JSON.stringify({ displayName: 'x', audienceId: '2' }),
      'application/json',
      400,
      'body.adAccountId',
    ],
    ['a bad id', 'GET', '/destinations/not-a-uuid', undefined, undefined, 400, 'params.id'],
    ['an unknown id', 'GET', `/destinations/${randomUUID()}`, undefined, undefined, 404, 'params.id'],
    ['a forged cursor', 'GET', '/destinations?cursor=Zm9v', undefined, undefined, 400, 'query.cursor'],
    ['an out-of-range limit', 'GET', '/destinations?limit=501', undefined, undefined, 400, 'query.limit'],
    ['an unknown query parameter', 'GET', '/destinations?sort=name', undefined, undefined, 400, 'query.sort'],
    [
      'an unknown field on update',
      'PATCH',
      `/destinations/${randomUUID()}`,
      JSON.stringify({ status: 'active' }),
      'application/json',
      400,
      'body.status',
    ],
  ] as const)('refuses %s', async (_label, method, url, payload, contentType, status, field) => {
    const res = await app.inject({
      method,
      url,
      headers: { ...auth, ...(contentType ? { 'content-type': contentType } : {}) },
      ...(payload !== undefined ? { payload } : {}),
    });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json<{ errors: Array<{ field: string }> }>();
    expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), instance: url.split('?')[0] });
    expect(body.errors.map((e) => e.field)).toContain(field);
    expect(res.body).not.toContain('EAAB');
  });
});
