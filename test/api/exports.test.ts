import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { listenJson, startApiWorld, type ApiWorld, type JsonClient, type JsonResponse } from '../support/api-world.js';
import { waitFor } from '../support/wait.js';
import { openSchemaDb } from '../support/context.js';
import { ApplicationFailure } from '@temporalio/common';
import { validateExport } from '../../src/activities/validate-export.js';
import { activityDeps } from '../../src/resources.js';
import { createGraphClient, WAITING_CALLER_RETRY_DELAYS_MS } from '../../src/facebook/index.js';
import { startExport } from '../../src/temporal/start-export.js';
import { ExportFailureType } from '../../src/workflows/contracts.js';
import { NotificationType } from '../../src/notifications/events.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/notifications/webhook.js';
import { verifySignature } from '../support/webhook-receiver.js';
import { API_VERSION, createDestination, targetOf, type ExportEnv } from '../support/export-env.js';
import { auth, buildTestApp, testConfig, testDeps } from '../support/api-harness.js';

const WEBHOOK_SECRET = 'whsec-test-0123456789';

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
  links: { self: string; temporalUi: string };
  detail: string;
  errors: unknown[];
}

interface Received {
  body: string;
  signature?: string;
  timestamp?: string;
}

/** A local webhook receiver that records every delivery. */
async function startReceiver(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({
        body,
        signature: req.headers[SIGNATURE_HEADER] as string | undefined,
        timestamp: req.headers[TIMESTAMP_HEADER] as string | undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

describe('exports API over real HTTP, the dev server, PostgreSQL and the sandbox', () => {
  let world: ApiWorld;
  let env: ExportEnv;
  let temporal: ApiWorld['temporal'];
  let taskQueue: string;
  let baseUrl: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let get: JsonClient<Dto>['get'];
  const EXPORT_TIMEOUT_S = 7_200;

  beforeAll(async () => {
    receiver = await startReceiver();
    world = await startApiWorld('api_exports', {
      profiles: 2_000,
      pageSize: 200,
      // /metrics counts every run of the store: a schema of its own keeps other files' runs out of its counts.
      db: await openSchemaDb('api_exports'),
      env: { EXPORT_TIMEOUT_MS: String(EXPORT_TIMEOUT_S * 1000) },
      overrides: { webhook: { url: receiver.url, secret: WEBHOOK_SECRET } },
    });
    ({ env, temporal, taskQueue } = world);
    const client = await listenJson<Dto>(world.app);
    ({ baseUrl, get } = client);
    post = (path) => client.send('POST', path);
  });
  afterAll(async () => {
    await world?.close();
    receiver?.server.close();
  });
  let post: (path: string) => Promise<JsonResponse<Dto>>;

  it('starts an export (202 with ids and a UI link), shows live progress, then the completed record', async () => {
    const destination = await createDestination(env);
    env.sandbox.faults.set({ latencyMs: 100 });
    try {
      const started = await post(`/destinations/${destination.id}/exports`);
      expect(started.status).toBe(202);
      const { runId, workflowId, temporalRunId } = started.body;
      expect(started.body).toMatchObject({ joined: false, links: { self: `/exports/${runId}` } });
      expect(started.body.links.temporalUi).toBe(
        `http://localhost:8233/namespaces/${inject('temporalNamespace')}/workflows/${encodeURIComponent(workflowId)}/${temporalRunId}`,
      );
      const again = await post(`/destinations/${destination.id}/exports`);
      expect(again.body).toMatchObject({ runId, joined: true });
      // Temporal stops the export once EXPORT_TIMEOUT_MS has passed, whatever it waits on.
      const execution = await temporal.client.workflow.getHandle(workflowId, temporalRunId).describe();
      expect(Number(execution.raw.executionConfig?.workflowExecutionTimeout?.seconds)).toBe(EXPORT_TIMEOUT_S);

      const live = await waitFor(async () => {
        const r = await get(`/exports/${runId}`);
        return r.status === 200 && r.body.progress && r.body.progress.pagesDone > 0 ? r.body : undefined;
      });
      expect(live.status).toBe('running');
      expect(live.live).toMatchObject({ status: 'RUNNING' });
      expect(live.progress!.pagesTotal).toBeGreaterThan(1);
      // One phase: the workflow's, even when the record says another (it is written only between steps).
      expect(live.progress).not.toHaveProperty('phase');
      await env.store.exportRuns.updateProgress(runId, { phase: 'validating' });
      const relive = await waitFor(async () => {
        const r = await get(`/exports/${runId}`);
        return r.body.progress ? r.body : undefined;
      });
      expect(['removing', 'uploading', 'waiting', 'finalising']).toContain(relive.phase);

      const listed = await get(`/exports?destinationId=${destination.id}&status=running`);
      expect(listed.body.items.map((i) => i.runId)).toEqual([runId]);
      expect(listed.body.items[0]!.live?.status).toBe('RUNNING');
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
    const done = await waitFor(async () => {
      const r = await get(
        `/exports/${(await env.store.exportRuns.list({ destinationId: destination.id })).items[0]!.id}`,
      );
      return r.body.status === 'completed' ? r.body : undefined;
    });
    expect(done.sent).toBeGreaterThan(0);
    // The report says why the run used its mode (here: the configured one).
    expect(done).toMatchObject({
      effectiveMode: 'add',
      modeReason: { code: 'configured', text: 'the configured mode' },
    });
    expect(done.progress).toBeNull();
    expect(done.pagesDone).toBe(done.pagesTotal);

    // The Temporal run is deleted: list and get still answer from the record.
    await temporal.client.workflowService.deleteWorkflowExecution({
      namespace: inject('temporalNamespace'),
      workflowExecution: { workflowId: done.workflowId, runId: done.temporalRunId },
    });
    await waitFor(async () => {
      const d = await temporal.client.workflow.getHandle(done.workflowId, done.temporalRunId).describe();
      return d ? undefined : true;
    }, 20_000).catch(() => undefined);
    expect((await get(`/exports/${done.runId}`)).body).toMatchObject({ runId: done.runId, status: 'completed' });
    const page = await get(`/exports?destinationId=${destination.id}`);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.items[0]).toMatchObject({ runId: done.runId, status: 'completed', sent: done.sent });
  });

  it('answers from the record for a run marked running whose workflow never existed', async () => {
    const destination = await createDestination(env);
    const run = await env.store.exportRuns.create({
      id: randomUUID(),
      destinationId: destination.id,
      adAccountId: destination.adAccountId!,
      segments: ['all'],
      mode: 'add',
      trigger: 'manual',
      workflowId: `export:${destination.adAccountId}:never-${randomUUID()}`,
    });
    const got = await get(`/exports/${run.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ status: 'running', live: null, progress: null });
    const listed = await get(`/exports?destinationId=${destination.id}`);
    expect(listed.body.items[0]).toMatchObject({ runId: run.id, live: null });
    const cancel = await post(`/exports/${run.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.type).toMatch(/problem\+json/);
  });

  it('refuses to start without consent, after withdrawal and with an expired token: 409 problem+json', async () => {
    const noConsent = await createDestination(env, { consent: false });
    const a = await post(`/destinations/${noConsent.id}/exports`);
    expect(a.status).toBe(409);
    expect(a.type).toMatch(/application\/problem\+json/);
    expect(a.body.errors).toEqual([{ field: 'consent', message: 'no current consent' }]);

    const withdrawn = await createDestination(env);
    const del = await request(`${baseUrl}/destinations/${withdrawn.id}/consent?withdrawnBy=ops`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(del.statusCode).toBe(200);
    await del.body.dump();
    const b = await post(`/destinations/${withdrawn.id}/exports`);
    expect(b.status).toBe(409);
    expect(b.body.detail).toMatch(/consent/);

    const expired = await createDestination(env, { token: env.sandbox.fixtures.expiredToken });
    const c = await post(`/destinations/${expired.id}/exports`);
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({ type: '/problems/not-connected' });
    expect(c.body.detail).toMatch(/reconnect facebook/i);
    expect(JSON.stringify(c.body)).not.toContain(env.sandbox.fixtures.expiredToken);
    expect((await env.store.exportRuns.list({ destinationId: expired.id })).items).toHaveLength(0);
  });

  it('asks debug_token again when Facebook answers a transient error at start, and answers 502 once it keeps failing', async () => {
    const debugTokenCalls = () => env.sandbox.state.log.filter((e) => e.path.endsWith('/debug_token'));
    const destination = await createDestination(env);
    try {
      env.sandbox.faults.set({ failingRoutes: [{ route: 'GET debug_token', times: 2 }] });
      const before = debugTokenCalls().length;
      const started = await post(`/destinations/${destination.id}/exports`);
      expect(started.status).toBe(202);
      // Two transient answers (code 2), then the one that let the start go ahead.
      expect(
        debugTokenCalls()
          .slice(before, before + 3)
          .map((e) => [e.status, e.errorCode]),
      ).toEqual([
        [500, 2],
        [500, 2],
        [200, undefined],
      ]);
      await waitFor(async () => {
        const r = await get(`/exports/${started.body.runId}`);
        return r.body.status === 'completed' ? true : undefined;
      });

      env.sandbox.faults.set({ failingRoutes: [{ route: 'GET debug_token' }] });
      const from = debugTokenCalls().length;
      const refused = await post(`/destinations/${destination.id}/exports`);
      expect(refused.status).toBe(502);
      expect(refused.type).toMatch(/application\/problem\+json/);
      expect(refused.body).toMatchObject({ type: '/problems/facebook' });
      expect(refused.body.detail).toMatch(/debug_token/);
      expect(debugTokenCalls().length - from).toBe(1 + WAITING_CALLER_RETRY_DELAYS_MS.length);
      expect((await env.store.exportRuns.list({ destinationId: destination.id })).items).toHaveLength(1);
      expect((await env.store.destinations.get(destination.id)).status).toBe('active');
    } finally {
      env.sandbox.faults.set({ failingRoutes: [] });
    }
  });

  it('wrong app credentials are reported as such, at start and in the run’s validation, and flag no destination', async () => {
    const destination = await createDestination(env);
    const f = env.sandbox.fixtures;
    const wrongSecret = 'not-the-app-secret-0123456789abcdef';
    const graph = createGraphClient({
      graphUrl: env.sandbox.url,
      dialogUrl: env.sandbox.url,
      apiVersion: API_VERSION,
      appId: f.appId,
      appSecret: wrongSecret,
    });
    const config = testConfig({
      FACEBOOK_GRAPH_URL: env.sandbox.url,
      FACEBOOK_API_VERSION: API_VERSION,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: wrongSecret,
      ENCRYPTION_KEY: env.encryptionKey.toString('base64'),
    });
    const misconfigured = await buildTestApp(
      await testDeps({
        config,
        db: env.db,
        temporalClient: temporal.client,
        store: env.store,
        graph,
        source: env.source,
      }),
    );
    try {
      const res = await misconfigured.inject({
        method: 'POST',
        url: `/destinations/${destination.id}/exports`,
        headers: auth,
      });
      expect(res.statusCode).toBe(503);
      const problem = res.json<Dto>();
      expect(problem).toMatchObject({ type: '/problems/not-configured' });
      expect(problem.detail).toMatch(/FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong/);
      expect(problem.detail).not.toMatch(/reconnect|password/i);
      expect(problem.errors).toEqual([
        { field: 'FACEBOOK_APP_SECRET', message: 'Facebook refused the app id and secret' },
      ]);

      const token = await misconfigured.inject({
        method: 'PUT',
        url: `/destinations/${destination.id}/facebook/token`,
        headers: { ...auth, 'content-type': 'application/json' },
        payload: { token: f.systemUserToken },
      });
      expect(token.statusCode).toBe(503);
      expect(token.json<Dto>().detail).toMatch(/FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong/);

      // The run's own validation (the activity, called as the worker calls it) says the same, non-retryable.
      const failure = await validateExport(
        {
          ...activityDeps({ ...env.resources, graph }, config, { client: temporal.client, taskQueue }),
          ...env.overrides(200),
        },
        { runId: randomUUID(), destinationId: destination.id, trigger: 'manual', workflowId: 'w', temporalRunId: 'r' },
      ).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: ExportFailureType.AppCredentialsInvalid, nonRetryable: true });
      expect((failure as Error).message).toMatch(/FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong/);
      expect((await env.store.destinations.get(destination.id)).status).toBe('active');
    } finally {
      await misconfigured.close();
      await graph.close();
    }
  });

  it('a failed run delivers a signed export.failed event, and /metrics counts it', async () => {
    // A run that fails for real (its token expired; started as a schedule would, without the API's pre-check):
    // the workflow finalises it as failed and announces it through the webhook.
    const destination = await createDestination(env, { token: env.sandbox.fixtures.expiredToken });
    const before = await metricValue('audience_export_runs_finished_total', {
      mode: 'add',
      trigger: 'schedule',
      status: 'failed',
    });
    const started = await startExport(temporal.client, targetOf(destination, ['all'], 'add'), {
      taskQueue,
      trigger: 'schedule',
      timings: { healthCheckDelaysMs: [] },
    });
    await temporal.client.workflow
      .getHandle(started.workflowId)
      .result()
      .catch(() => undefined);
    const delivery = await waitFor(() =>
      Promise.resolve(receiver.received.find((d) => d.body.includes(`export.failed:${started.runId}`))),
    );
    expect(verifySignature(WEBHOOK_SECRET, delivery, delivery.body)).toBe(true);
    expect(verifySignature('wrong-secret-000000', delivery, delivery.body)).toBe(false);
    const event = JSON.parse(delivery.body) as { id: string; type: string; data: Record<string, unknown> };
    expect(event).toMatchObject({
      id: `export.failed:${started.runId}`,
      type: NotificationType.ExportFailed,
      data: { runId: started.runId, destinationName: destination.displayName },
    });
    expect(String(event.data.message)).toMatch(/Reconnect Facebook/);
    expect(delivery.body).not.toContain(env.sandbox.fixtures.expiredToken);

    const after = await metricValue('audience_export_runs_finished_total', {
      mode: 'add',
      trigger: 'schedule',
      status: 'failed',
    });
    expect(after - before).toBe(1);
    const text = await metricsText();
    expect(text).toMatch(/# TYPE audience_export_page_duration_seconds histogram/);
    expect(text).toMatch(/audience_export_page_duration_seconds_bucket\{le="\+Inf"\} \d+/);

    const unauthorised = await request(`${baseUrl}/metrics`);
    expect(unauthorised.statusCode).toBe(401);
    await unauthorised.body.dump();
  });

  async function metricsText(): Promise<string> {
    const res = await request(`${baseUrl}/metrics`, { headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    return res.body.text();
  }

  async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
    const text = await metricsText();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
    }
    return 0;
  }
});
