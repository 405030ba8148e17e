import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createExportWorker } from '../../src/worker.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { API_VERSION, createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';
import { auth, buildTestApp, testConfig, testDeps } from '../support/api-harness.js';

/** The fields these tests read from run, page and problem answers. */
interface Dto {
  [k: string]: unknown;
  runId: string;
  workflowId: string;
  temporalRunId: string;
  status: string;
  sent: number;
  pagesDone: number;
  pagesTotal: number;
  progress: { pagesDone: number; pagesTotal: number } | null;
  live: { status: string } | null;
  items: Dto[];
  paused: boolean;
  nextRuns: string[];
  recentActions: { workflowId: string }[];
  started: { destinationId: string; runId: string; joined: boolean }[];
  skipped: { destinationId: string; reason: string }[];
  links: { self: string; temporalUi: string };
  detail: string;
  errors: unknown[];
}

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('schedules and refresh over real HTTP, the dev server, PostgreSQL and the sandbox', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let baseUrl: string;
  const taskQueue = uniqueTaskQueue('api-schedules');
  const EXPORT_TIMEOUT_S = 5_400;

  beforeAll(async () => {
    env = await createExportEnv('api_schedules', 2_000);
    temporal = await connectTemporal();
    const f = env.sandbox.fixtures;
    const config = testConfig({
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      FACEBOOK_GRAPH_URL: env.sandbox.url,
      FACEBOOK_API_VERSION: API_VERSION,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
      ENCRYPTION_KEY: env.encryptionKey.toString('base64'),
      EXPORT_HEALTH_CHECK_DELAYS_MS: '',
    });
    worker = await createExportWorker({
      config,
      connection: temporal.nativeConnection,
      taskQueue,
      workflowBundlePath: inject('workflowBundlePath'),
      client: temporal.client,
      resources: env.resources,
      overrides: {
        ...env.overrides(200),
        exportTimings: { healthCheckDelaysMs: [] },
        exportTimeoutMs: EXPORT_TIMEOUT_S * 1000,
      },
    });
    running = worker.run();
    app = await buildTestApp(
      await testDeps({
        config,
        db: env.db,
        temporalClient: temporal.client,
        store: env.store,
        graph: env.graph,
        source: env.source,
      }),
    );
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await env?.close();
  });

  const get = async (path: string) => {
    const res = await request(`${baseUrl}${path}`, { headers: auth });
    return { status: res.statusCode, type: res.headers['content-type'], body: (await res.body.json()) as Dto };
  };
  const send = async (method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.statusCode === 204) {
      await res.body.dump();
      return { status: 204, type: undefined, body: {} as Dto };
    }
    return { status: res.statusCode, type: res.headers['content-type'], body: (await res.body.json()) as Dto };
  };

  it('sets a schedule, triggers it, the scheduled run completes; pause, resume, delete', async () => {
    const destination = await createDestination(env);
    const bad = await send('PUT', `/destinations/${destination.id}/schedule`, { cron: '61 * * * *' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'body.cron', message: expect.stringMatching(/minute/) as unknown }]);
    const both = await send('PUT', `/destinations/${destination.id}/schedule`, {
      cron: '0 6 * * *',
      intervalSeconds: 3600,
    });
    expect(both.status).toBe(400);
    const badZone = await send('PUT', `/destinations/${destination.id}/schedule`, {
      cron: '0 6 * * *',
      timezone: 'Mars/Base',
    });
    expect(badZone.status).toBe(400);

    const set = await send('PUT', `/destinations/${destination.id}/schedule`, {
      cron: '0 6 * * 1-5',
      timezone: 'Europe/Berlin',
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ cron: '0 6 * * 1-5', timezone: 'Europe/Berlin', paused: false });
    expect(set.body.nextRuns.length).toBeGreaterThan(0);
    expect((await env.store.exportConfigs.get(destination.id)).schedule).toMatchObject({
      cron: '0 6 * * 1-5',
      paused: false,
    });

    const triggered = await send('POST', `/destinations/${destination.id}/schedule/trigger`);
    expect(triggered.status).toBe(202);
    const run = await waitFor(async () => {
      const runs = await env.store.exportRuns.list({ destinationId: destination.id });
      return runs.items[0]?.status === 'completed' ? runs.items[0] : undefined;
    }, 120_000);
    expect(run.trigger).toBe('schedule');
    expect(run.sent).toBeGreaterThan(0);
    // A scheduled start gives the export the worker's EXPORT_TIMEOUT_MS as its execution timeout.
    const execution = await temporal.client.workflow.getHandle(run.workflowId, run.temporalRunId!).describe();
    expect(Number(execution.raw.executionConfig?.workflowExecutionTimeout?.seconds)).toBe(EXPORT_TIMEOUT_S);
    const described = await get(`/destinations/${destination.id}/schedule`);
    expect(described.body.recentActions[0]?.workflowId).toMatch(/^scheduled-export:/);

    const paused = await send('POST', `/destinations/${destination.id}/schedule/pause`);
    expect(paused.body.paused).toBe(true);
    expect((await env.store.exportConfigs.get(destination.id)).schedule?.paused).toBe(true);
    const resumed = await send('POST', `/destinations/${destination.id}/schedule/resume`);
    expect(resumed.body.paused).toBe(false);

    expect((await send('DELETE', `/destinations/${destination.id}/schedule`)).status).toBe(204);
    expect((await get(`/destinations/${destination.id}/schedule`)).status).toBe(404);
    expect((await env.store.exportConfigs.get(destination.id)).schedule).toBeNull();
  });

  it('POST /refresh starts every scheduled, not paused export with trigger refresh', async () => {
    const a = await createDestination(env);
    const b = await createDestination(env);
    const pausedOne = await createDestination(env);
    for (const d of [a, b, pausedOne]) {
      expect((await send('PUT', `/destinations/${d.id}/schedule`, { intervalSeconds: 86_400 })).status).toBe(200);
    }
    await send('POST', `/destinations/${pausedOne.id}/schedule/pause`);
    const refreshed = await send('POST', '/refresh');
    expect(refreshed.status).toBe(202);
    const ids = refreshed.body.started.map((s) => s.destinationId);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids).not.toContain(pausedOne.id);
    for (const s of refreshed.body.started.filter((x) => [a.id, b.id].includes(x.destinationId))) {
      const run = await waitFor(async () => {
        const r = await env.store.exportRuns.get(s.runId);
        return r.status === 'completed' ? r : undefined;
      }, 120_000);
      expect(run.trigger).toBe('refresh');
    }
    for (const d of [a, b, pausedOne]) await send('DELETE', `/destinations/${d.id}/schedule`);
  });
});
