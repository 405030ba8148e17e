import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenJson, startApiWorld, type ApiWorld, type JsonClient } from '../support/api-world.js';
import { createDestination, type ExportEnv } from '../support/export-env.js';
import { waitFor } from '../support/wait.js';

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

describe('schedules and refresh over real HTTP, the dev server, PostgreSQL and the sandbox', () => {
  let world: ApiWorld;
  let env: ExportEnv;
  let temporal: ApiWorld['temporal'];
  let get: JsonClient<Dto>['get'];
  let send: JsonClient<Dto>['send'];
  const EXPORT_TIMEOUT_S = 5_400;

  beforeAll(async () => {
    world = await startApiWorld('api_schedules', {
      profiles: 2_000,
      pageSize: 200,
      overrides: { exportTimeoutMs: EXPORT_TIMEOUT_S * 1000 },
    });
    ({ env, temporal } = world);
    ({ get, send } = await listenJson<Dto>(world.app));
  });
  afterAll(() => world?.close());

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
