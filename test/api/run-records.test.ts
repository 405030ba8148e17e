import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/api/server.js';
import type { Config } from '../../src/config.js';
import type { Resources } from '../../src/resources.js';
import { RowBuilderPool } from '../../src/row-builder/pool.js';
import type { Destination, ExportRun } from '../../src/store/index.js';
import { ClosedRunFailureType, GONE_AFTER_MS } from '../../src/temporal/reconcile-runs.js';
import { startExport } from '../../src/temporal/start-export.js';
import { API_KEY, auth } from '../support/api-harness.js';
import { listenJson, startApiWorld, type ApiWorld, type JsonClient, type JsonResponse } from '../support/api-world.js';
import { waitFor } from '../support/wait.js';
import { openSchemaDb, uniqueTaskQueue } from '../support/context.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { createDestination, targetOf, type ExportEnv } from '../support/export-env.js';

const CLI = fileURLToPath(new URL('../../bin/audience-export.mjs', import.meta.url));
const PAGE_SIZE = 500;

interface RunView {
  runId: string;
  status: string;
  phase: string;
  sent: number;
  possiblySent: number;
  possiblyRemoved: number;
  effectiveMode: string | null;
  workflowId: string;
  temporalRunId: string;
  error: { type: string | null; message: string } | null;
  live?: { status: string } | null;
}

/**
 * Run records never claim a run Temporal has closed is still running, whatever step it was in, and pages in
 * flight when a run stops are reported as possibly applied. A schema of its own: the reconciler and /metrics
 * walk every record, and other test files' records are not this file's to judge.
 */
describe('run records that never lie', () => {
  let world: ApiWorld;
  let env: ExportEnv;
  let temporal: ApiWorld['temporal'];
  let config: Config;
  let taskQueue: string;
  let baseUrl: string;
  let get: JsonClient<RunView>['get'];
  let call: (method: 'POST' | 'DELETE', path: string, body?: unknown) => Promise<JsonResponse<Record<string, unknown>>>;
  let startWorker: ApiWorld['startWorker'];

  beforeAll(async () => {
    world = await startApiWorld('run_records', {
      profiles: 3_000,
      pageSize: PAGE_SIZE,
      db: await openSchemaDb('run_records'),
      env: { EXPORT_PAGE_CONCURRENCY: '2' },
    });
    ({ env, temporal, config, taskQueue, startWorker } = world);
    const client = await listenJson<RunView>(world.app);
    ({ baseUrl, get } = client);
    call = (method, path, body) => client.send<Record<string, unknown>>(method, path, body);
  });
  afterAll(() => world?.close());

  /** The CLI as a user runs it, against this file's API. */
  const cli = (args: string[]) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AUDIENCE_EXPORT_API_URL: baseUrl,
        AUDIENCE_EXPORT_API_KEY: API_KEY,
        LOG_LEVEL: 'silent',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { exited, stderr: () => stderr };
  };
  /** A run of `destination` started straight on `queue` (no API preflight), for runs that must stall or stop. */
  const startOn = (destination: Destination, queue: string) =>
    startExport(temporal.client, targetOf(destination, ['all'], 'mirror'), {
      taskQueue: queue,
      trigger: 'manual',
      pageConcurrency: 2,
      timings: { healthCheckDelaysMs: [] },
    });

  it('a run cancelled while validating ends cancelled: `export --follow` stops with exit 1, `exports get` says so', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    // Validation makes four Graph calls (token, ad account, create and read the audience): ~6 s at this latency.
    env.sandbox.faults.set({ latencyMs: 1_500 });
    try {
      const follow = cli(['export', '--destination', destination.id, '--follow']);
      const runId = await waitFor(() => Promise.resolve(/export run ([0-9a-f-]{36})/.exec(follow.stderr())?.[1]));
      const validating = await waitFor(async () => {
        const r = await get(`/exports/${runId}`);
        return r.status === 200 ? r.body : undefined;
      });
      expect(validating).toMatchObject({ status: 'running', phase: 'validating' });
      expect((await call('POST', `/exports/${runId}/cancel`)).status).toBe(202);

      const followed = await follow.exited;
      expect(followed.code).toBe(1);
      expect(followed.stdout).toContain('Export cancelled');
      const run = await env.store.exportRuns.get(runId);
      expect(run).toMatchObject({ status: 'cancelled', phase: 'done', sent: 0, errorType: null });
      expect(run.finishedAt).not.toBeNull();
      const handle = temporal.client.workflow.getHandle(run.workflowId, run.temporalRunId!);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      // The workflow finalised it itself (the API's reconciliation is for runs no workflow code could finish).
      const history = await handle.fetchHistory();
      const activities = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
      expect(activities.filter(Boolean)).toEqual(['validateExport', 'finalizeExport']);

      const shown = await cli(['exports', 'get', runId]).exited;
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain('Export cancelled');
      // Nothing was frozen or sent: no page, no staging table left behind.
      expect(await env.source.listFrozen()).not.toContain(runId);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  it('a run terminated in Temporal mid-upload is finished as failed when read, and /metrics no longer counts it', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    env.sandbox.faults.set({ latencyMs: 2_000 });
    try {
      const started = await startOn(destination, taskQueue);
      await waitFor(async () =>
        (await env.store.exportRuns.get(started.runId)).phase === 'uploading' ? true : undefined,
      );
      await sleep(500); // two pages are now in flight
      await temporal.client.workflow.getHandle(started.workflowId).terminate('operator stopped it');
      // The record still says running until someone asks: here, the metrics scrape.
      expect((await env.store.exportRuns.get(started.runId)).status).toBe('running');
      const metrics = await request(`${baseUrl}/metrics`, { headers: auth });
      const text = await metrics.body.text();
      expect(metrics.statusCode).toBe(200);
      expect(text).not.toMatch(/^audience_export_runs_running\{[^}]*\} [1-9]/m);
      expect(text).toMatch(
        /^audience_export_runs_finished_total\{mode="mirror",trigger="manual",status="failed"\} 1$/m,
      );

      const got = await get(`/exports/${started.runId}`);
      expect(got.body).toMatchObject({
        status: 'failed',
        phase: 'done',
        error: { type: ClosedRunFailureType.Terminated },
      });
      expect(got.body.error!.message).toContain('terminated in Temporal while uploading');
      expect(got.body.error!.message).toContain('operator stopped it');
      // The pages in flight were never answered: reported as possibly applied (what the sandbox, which finishes
      // the calls, then holds), not as never sent.
      expect(got.body.sent).toBe(0);
      await sleep(2_500);
      const members = await sandboxMembers(env.sandbox, (await env.store.exportRuns.get(started.runId)).audienceId!);
      expect(members.rows.size).toBeGreaterThan(PAGE_SIZE);
      expect(got.body.possiblySent).toBe(members.rows.size);
      expect(await env.source.listFrozen()).not.toContain(started.runId);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  it('a run that times out in Temporal ends failed as timed out', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    env.sandbox.faults.set({ latencyMs: 1_500 });
    try {
      // The execution timeout every start gives (EXPORT_TIMEOUT_MS), shortened.
      const { runId, workflowId } = await startExport(temporal.client, targetOf(destination, ['all'], 'mirror'), {
        taskQueue,
        trigger: 'manual',
        timings: { healthCheckDelaysMs: [] },
        timeoutMs: 4_000,
      });
      await waitFor(async () => ((await env.store.exportRuns.get(runId)).status ? true : undefined));
      await temporal.client.workflow
        .getHandle(workflowId)
        .result()
        .catch(() => undefined);
      const got = await get(`/exports/${runId}`);
      expect(got.body).toMatchObject({ status: 'failed', error: { type: ClosedRunFailureType.TimedOut } });
      expect(got.body.error!.message).toMatch(/timed out in Temporal while (validating|freezing|uploading)/);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  /** A run whose record exists and whose worker then went away; Temporal terminates it with nobody up. */
  const runClosedWithoutWorker = async (): Promise<ExportRun> => {
    const queue = uniqueTaskQueue('run-records-gone');
    const own = await startWorker(queue);
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    env.sandbox.faults.set({ latencyMs: 1_500 });
    try {
      const started = await own.runUntil(async () => {
        const s = await startOn(destination, queue);
        await waitFor(async () => ((await env.store.exportRuns.get(s.runId)).status ? true : undefined));
        return s;
      });
      await temporal.client.workflow.getHandle(started.workflowId).terminate();
      return await env.store.exportRuns.get(started.runId);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  };

  it('records of runs closed while no worker was up are finished at API start and by the daily check', async () => {
    const atStart = await runClosedWithoutWorker();
    const second = await runClosedWithoutWorker();
    expect([atStart.status, second.status]).toEqual(['running', 'running']);

    // API start: the real server entry point, over this file's resources.
    const rowBuilder = new RowBuilderPool({ threads: 1 });
    const resources: Resources = {
      db: env.db,
      sourceDb: env.db,
      store: env.store,
      source: env.source,
      graph: env.graph,
      rowBuilder,
      close: () => rowBuilder.close(),
    };
    const server = await startApiServer(
      { ...config, api: { ...config.api, port: 0, host: '127.0.0.1' } },
      { resources, temporalClient: temporal.client },
    );
    try {
      const summary = await server.reconciled;
      expect(summary?.finished).toEqual(
        expect.arrayContaining([
          { runId: atStart.id, status: 'failed' },
          { runId: second.id, status: 'failed' },
        ]),
      );
    } finally {
      await server.close();
      await rowBuilder.close();
    }
    expect(await env.store.exportRuns.get(atStart.id)).toMatchObject({
      status: 'failed',
      errorType: ClosedRunFailureType.Terminated,
    });

    // The daily check: the same, for a run closed after the API started.
    const later = await runClosedWithoutWorker();
    const summary = (await temporal.client.workflow.execute('checkTokens', {
      taskQueue,
      workflowId: `check-tokens-${randomUUID()}`,
    })) as { checked: number };
    expect(summary.checked).toBeGreaterThanOrEqual(0);
    expect(await env.store.exportRuns.get(later.id)).toMatchObject({
      status: 'failed',
      errorType: ClosedRunFailureType.Terminated,
    });
  });

  it('a record whose workflow Temporal does not know is failed once quiet, not while young', async () => {
    const destination = await createDestination(env);
    const run = await env.store.exportRuns.create({
      id: randomUUID(),
      destinationId: destination.id,
      adAccountId: destination.adAccountId!,
      segments: ['all'],
      mode: 'add',
      trigger: 'manual',
      workflowId: `export:${destination.adAccountId}:never-${randomUUID()}`,
      temporalRunId: randomUUID(),
    });
    expect((await get(`/exports/${run.id}`)).body).toMatchObject({ status: 'running', live: null });
    await env.db.query(`UPDATE export_runs SET updated_at = now() - $2::interval WHERE id = $1`, [
      run.id,
      `${GONE_AFTER_MS + 1_000} milliseconds`,
    ]);
    const got = await get(`/exports/${run.id}`);
    expect(got.body).toMatchObject({ status: 'failed', error: { type: ClosedRunFailureType.NotFound } });
    expect((await call('POST', `/exports/${run.id}/cancel`)).status).toBe(409);
  });

  it('consent withdrawn mid-upload: pages in flight are reported as possibly applied, and the next mirror run accounts for them', async () => {
    const destination = await createDestination(env, { config: { mode: 'mirror' } });
    env.sandbox.faults.set({ latencyMs: 3_000 });
    let audienceId: string;
    let runId: string;
    try {
      runId = (await call('POST', `/destinations/${destination.id}/exports`)).body.runId as string;
      await waitFor(async () => ((await env.store.exportRuns.get(runId)).phase === 'uploading' ? true : undefined));
      await sleep(500); // two pages wait 3 s for the sandbox, which applies them whatever the client does
      const withdrawn = await call('DELETE', `/destinations/${destination.id}/consent?withdrawnBy=ops`);
      expect(withdrawn.status).toBe(200);
      const run = await waitFor(async () => {
        const r = await env.store.exportRuns.get(runId);
        return r.status !== 'running' ? r : undefined;
      });
      expect(run).toMatchObject({ status: 'cancelled', errorType: 'Aborted', sent: 0 });
      audienceId = run.audienceId!;
      await sleep(4_000); // the sandbox finishes the calls the worker walked away from
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
    const members = await sandboxMembers(env.sandbox, audienceId);
    expect(members.rows.size).toBeGreaterThan(0);
    const view = (await get(`/exports/${runId}`)).body;
    expect(view.possiblySent).toBe(members.rows.size);
    const report = await cli(['exports', 'get', runId]).exited;
    expect(report.stdout).toMatch(new RegExp(`possibly applied +${members.rows.size.toLocaleString('en-US')} rows`));
    expect(report.stdout).toMatch(/sent +0 rows/);

    // Consent again, and a smaller segment: the mirror diff (not a replace) removes what the stopped run may have
    // added for profiles outside it, so the audience ends exactly the new segment.
    const consent = { givenBy: 'ops@example.test', statementVersion: '2026-01' };
    expect((await call('POST', `/destinations/${destination.id}/consent`, consent)).status).toBeLessThan(300);
    await env.store.exportConfigs.put(destination.id, {
      ...(await env.store.exportConfigs.get(destination.id)),
      segments: ['one_percent'],
    });
    const second = (await call('POST', `/destinations/${destination.id}/exports`)).body.runId as string;
    const done = await waitFor(async () => {
      const r = await env.store.exportRuns.get(second);
      return r.status !== 'running' ? r : undefined;
    });
    expect(done).toMatchObject({ status: 'completed', effectiveMode: 'mirror' });
    expect(done.removed).toBeGreaterThan(0);
    const expected = await expectedRows(env.db, env.tables, ['one_percent']);
    expect((await sandboxMembers(env.sandbox, audienceId)).rows).toEqual(expected.rows);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
