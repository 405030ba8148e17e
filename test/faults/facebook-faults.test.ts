import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { DestinationStatus } from '../../src/store/index.js';
import type { StartedExport } from '../../src/temporal/start-export.js';
import { ExportFailureType } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { createExportWorker } from '../../src/worker.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { API_VERSION, createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { attemptsOf } from '../support/history.js';
import { audienceDiff, inconsistentBatches, sleep } from '../support/faults/audit.js';
import { until } from '../support/wait.js';
import { failureCause, resultWithin, startFaultExport } from '../support/faults/fault-export.js';
import { lastCallSeq, sandboxCalls, type LoggedCall } from '../support/run-export.js';
import { FULL, PAGE_SIZE, scale } from './scale.js';

type Call = LoggedCall & { audienceId?: string; atMs?: number };

/** An in-process worker on a world; with `trustHint: false` its Graph client ignores the sandbox's retry hint. */
async function startWorker(
  env: ExportEnv,
  temporal: Awaited<ReturnType<typeof connectTemporal>>,
  taskQueue: string,
  trustHint = true,
) {
  const f = env.sandbox.fixtures;
  const graph = trustHint
    ? env.graph
    : createGraphClient({
        graphUrl: env.sandbox.url,
        dialogUrl: env.sandbox.url,
        apiVersion: API_VERSION,
        appId: f.appId,
        appSecret: f.appSecret,
      });
  const worker: Worker = await createExportWorker({
    config: loadConfig({ TEMPORAL_NAMESPACE: inject('temporalNamespace'), TEMPORAL_TASK_QUEUE: taskQueue }),
    connection: temporal.nativeConnection,
    client: temporal.client,
    resources: { ...env.resources, graph },
    overrides: {
      ...env.overrides(PAGE_SIZE),
      pageConcurrency: 2,
      exportTimings: { healthCheckDelaysMs: [], pageHeartbeatTimeout: '4s', stepHeartbeatTimeout: '4s' },
    },
    taskQueue,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      if (graph !== env.graph) await graph.close();
    },
  };
}

/** Injected faults make activities fail on purpose: keep the worker's warnings about them out of the output. */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // installed already in this process
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

describe('Facebook faults from the sandbox', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let taskQueue: string;
  let worker: Awaited<ReturnType<typeof startWorker>>;

  beforeAll(async () => {
    quietRuntime();
    env = await createExportEnv('flt_fb', scale.profiles);
    temporal = await connectTemporal();
    taskQueue = uniqueTaskQueue('fb-faults');
    // The full form waits on Meta's own header (whole minutes), as a real run would: no sandbox hint.
    worker = await startWorker(env, temporal, taskQueue, !FULL);
  });
  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
    await env?.close();
  });

  const exactAudience = async (audienceId: string) => {
    const expected = await expectedRows(env.db, env.tables, ['all']);
    return audienceDiff(expected.rows, (await sandboxMembers(env.sandbox, audienceId)).rows);
  };

  it(
    'throttled with the real headers: the run waits the block out, makes no call during it, and spends no retry',
    async () => {
      const t0 = Date.now();
      const blockMs = scale.throttleBlockMs;
      const destination = await createDestination(env);
      env.sandbox.faults.set({ latencyMs: [50, 150] });
      const mark = await lastCallSeq(env.sandbox.url);
      // One page at a time, so the one throttled call is the only call near the block (two in flight could both
      // meet it, each rightly waiting without a retry, but then no call could be told to be inside it or not).
      const { handle } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'add', 1);
      try {
        await until(async () => (await handle.query(progressQuery)).pagesDone >= 2, 60_000, 50);
        // The ad account's budget is long spent: its next call starts a block (no sandbox hint override).
        env.sandbox.faults.set({ throttle: { callsPerWindow: 1, windowMs: 3_600_000, blockMs } });
        await until(
          async () => (await sandboxCalls(env.sandbox.url, mark)).some((c) => c.errorCode === 80003),
          60_000,
          20,
        );
        env.sandbox.faults.set({ throttle: null }); // the block in force stays
        const result = await resultWithin(handle, blockMs + 120_000);

        const calls = (await sandboxCalls(env.sandbox.url, mark)) as Call[];
        const throttled = calls.filter((c) => c.errorCode === 80003);
        const blockStart = throttled[0]!.atMs!;
        const during = calls.filter((c) => c.atMs! > blockStart && c.atMs! < blockStart + blockMs - 50);
        const attempts = attemptsOf(await handle.fetchHistory(), 'uploadPage');
        const diff = await exactAudience(result.audienceId);
        console.log(
          `[faults] throttle: runs=1 block=${seconds(blockMs)} (${FULL ? 'from estimated_time_to_regain_access' : 'sandbox hint'}) ` +
            `throttled answers=${throttled.length} waited=${seconds(result.progress.waitedMs)} calls during block=${during.length} ` +
            `page attempts=${attempts.length} retried=${attempts.filter((a) => a > 1).length} rows lost=${diff.lost} rows extra=${diff.extra} ` +
            `time=${seconds(Date.now() - t0)}`,
        );
        expect(result.status).toBe('completed');
        expect(throttled).toHaveLength(1);
        expect(during).toEqual([]);
        expect(result.progress.waitedMs).toBeGreaterThanOrEqual(blockMs - 1_000);
        expect(new Set(attempts)).toEqual(new Set([1]));
        expect(diff).toEqual({ lost: 0, extra: 0 });
      } finally {
        env.sandbox.faults.set({ throttle: null, latencyMs: null });
      }
    },
    scale.testTimeoutMs,
  );

  it(
    'a storm of transient errors (30%, JSON and HTML): every run completes with the exact audience',
    async () => {
      for (const kind of ['json', 'html'] as const) {
        for (let run = 0; run < scale.stormRuns; run++) {
          const t0 = Date.now();
          const destination = await createDestination(env);
          const mark = await lastCallSeq(env.sandbox.url);
          const storm = { transientErrorRate: 0.3, transientErrorKind: kind } as const;
          // The full form storms validation too, which finds a known defect (a retried validation leaves the run
          // without its new audience's id; see the issue #16 note); the CI form storms the upload only.
          if (FULL) env.sandbox.faults.set(storm);
          let result;
          try {
            const { handle } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'add');
            if (!FULL) {
              await until(async () => (await handle.query(progressQuery)).phase === 'uploading', 60_000, 20);
              env.sandbox.faults.set(storm);
            }
            // At 30%, validation (five calls or so) may take several attempts, with backoff up to a minute.
            result = await resultWithin(handle, 600_000);
          } finally {
            env.sandbox.faults.set({ transientErrorRate: 0 });
          }
          const calls = await sandboxCalls(env.sandbox.url, mark);
          const failed = calls.filter((c) => c.status >= 500 || c.errorCode === 2).length;
          const diff = await exactAudience(result.audienceId);
          const batches = await inconsistentBatches(env.sandbox, mark);
          console.log(
            `[faults] transient storm (${kind}): runs=1 calls=${calls.length} transient errors=${failed} ` +
              `rows lost=${diff.lost} rows extra=${diff.extra} time=${seconds(Date.now() - t0)}`,
          );
          expect(result.status).toBe('completed');
          expect(failed).toBeGreaterThan(0);
          expect(diff).toEqual({ lost: 0, extra: 0 });
          expect(batches.inconsistent).toEqual([]);
        }
      }
    },
    scale.testTimeoutMs,
  );

  it(
    'a token expiring mid-run: the run fails fast with a reconnect message, and the next scheduled run fails fast too',
    async () => {
      const t0 = Date.now();
      const token = env.sandbox.fixtures.userToken;
      const destination = await createDestination(env, { token });
      env.sandbox.faults.set({ latencyMs: [100, 250] });
      try {
        const { handle, started } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'add');
        await until(async () => (await handle.query(progressQuery)).pagesDone >= 2, 60_000, 50);
        const expiredAt = Date.now();
        env.sandbox.faults.set({ tokenExpiry: { [token]: expiredAt } });
        const err = await resultWithin(handle, 60_000).catch((e: unknown) => e);
        const failedAfterMs = Date.now() - expiredAt;
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = failureCause(err);
        expect(cause.type).toBe(ExportFailureType.TokenInvalid);
        expect(cause.message).toMatch(/Reconnect Facebook/);
        expect(cause.message).not.toContain(token);
        expect((await env.store.destinations.get(destination.id)).status).toBe(DestinationStatus.NeedsReconnect);
        expect((await env.store.exportRuns.get(started.runId)).status).toBe('failed');
        // No retry was spent on it: a page that met the expired token failed on its first attempt.
        expect(new Set(attemptsOf(await handle.fetchHistory(), 'uploadPage'))).toEqual(new Set([1]));

        // The schedule's next run: the scheduled workflow starts the export, which fails at validation.
        const t1 = Date.now();
        const scheduled = await temporal.client.workflow.execute('scheduledExport', {
          taskQueue,
          workflowId: `scheduled-${randomUUID()}`,
          args: [{ destinationId: destination.id, trigger: 'schedule' }],
        });
        const next = scheduled as StartedExport;
        const nextHandle = temporal.client.workflow.getHandle(next.workflowId, next.temporalRunId);
        const nextErr = await nextHandle.result().catch((e: unknown) => e);
        const nextMs = Date.now() - t1;
        const nextCause = failureCause(nextErr);
        expect(nextCause.type).toBe(ExportFailureType.TokenInvalid);
        expect(nextCause.message).toMatch(/[Rr]econnect/);
        expect(attemptsOf(await nextHandle.fetchHistory(), 'validateExport')).toEqual([1]);
        console.log(
          `[faults] token expired mid-run: runs=2 failed after=${seconds(failedAfterMs)} next scheduled run failed in=${seconds(nextMs)} ` +
            `destination=${DestinationStatus.NeedsReconnect} time=${seconds(Date.now() - t0)}`,
        );
        expect(failedAfterMs).toBeLessThan(15_000);
        expect(nextMs).toBeLessThan(15_000);
      } finally {
        env.sandbox.faults.set({ latencyMs: null, tokenExpiry: {} });
      }
    },
    scale.testTimeoutMs,
  );

  it.each(['deleted', 'flagged'] as const)(
    'an audience %s mid-run: the run fails with an operator message naming it, and nothing more is sent',
    async (kind) => {
      const t0 = Date.now();
      const destination = await createDestination(env, { existingAudience: true });
      const audienceId = destination.audienceId!;
      env.sandbox.faults.set({ latencyMs: [100, 250], audienceFaults: [{ audienceId, kind, onCall: 8 }] });
      const mark = await lastCallSeq(env.sandbox.url);
      try {
        const { handle, started } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'add');
        const err = await resultWithin(handle, 120_000).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = failureCause(err);
        expect(cause.type).toBe(ExportFailureType.AudienceUnusable);
        expect(cause.message).toContain(audienceId);
        const run = await env.store.exportRuns.get(started.runId);
        expect(run.status).toBe('failed');
        expect(run.sent).toBeGreaterThan(0);

        await sleep(1_500);
        const calls = ((await sandboxCalls(env.sandbox.url, mark)) as Call[]).filter(
          (c) => c.audienceId === audienceId || c.path.includes(audienceId),
        );
        const firstRefusal = calls.findIndex((c) => c.status >= 400);
        expect(firstRefusal).toBeGreaterThan(0);
        const uploadsAfter = calls.slice(firstRefusal + 1).filter((c) => c.path.endsWith('/users'));
        console.log(
          `[faults] audience ${kind} mid-run: runs=1 pages sent before=${run.pagesDone} uploads after the refusal=${uploadsAfter.length} ` +
            `accepted after=${uploadsAfter.filter((c) => c.status === 200).length} message="${cause.message}" time=${seconds(Date.now() - t0)}`,
        );
        // At most the one page already in flight (two run at once) meets the refusal too; none is accepted.
        expect(uploadsAfter.length).toBeLessThanOrEqual(1);
        expect(uploadsAfter.filter((c) => c.status === 200)).toEqual([]);
      } finally {
        env.sandbox.faults.set({ latencyMs: null, audienceFaults: [] });
      }
    },
    scale.testTimeoutMs,
  );
});

describe('a replace outliving Meta’s session window', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let taskQueue: string;

  beforeAll(async () => {
    quietRuntime();
    env = await createExportEnv('flt_window', scale.profiles, { config: { sessionWindowMs: 1_500 } });
    temporal = await connectTemporal();
    taskQueue = uniqueTaskQueue('fb-window');
    worker = await startWorker(env, temporal, taskQueue);
  });
  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
    await env?.close();
  });

  it(
    'the session times out mid-replace: the rest goes as adds and the audience equals the segment',
    async () => {
      const t0 = Date.now();
      const destination = await createDestination(env, { existingAudience: true, config: { mode: 'replace' } });
      env.sandbox.faults.set({ latencyMs: [150, 300] });
      const mark = await lastCallSeq(env.sandbox.url);
      try {
        const { handle, started } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'replace');
        const result = await resultWithin(handle, 180_000);
        const calls = await sandboxCalls(env.sandbox.url, mark);
        const timedOut = calls.filter((c) => c.errorCode === 2650 && c.errorSubcode === 1870158).length;
        const adds = calls.filter((c) => c.path.endsWith('/users') && c.status === 200).length;
        const expected = await expectedRows(env.db, env.tables, ['all']);
        const diff = audienceDiff(expected.rows, (await sandboxMembers(env.sandbox, result.audienceId)).rows);
        console.log(
          `[faults] replace session timeout: runs=1 timed-out answers=${timedOut} pages sent as adds=${adds} ` +
            `rows lost=${diff.lost} rows extra=${diff.extra} time=${seconds(Date.now() - t0)}`,
        );
        expect(result.status).toBe('completed');
        expect(timedOut).toBeGreaterThan(0);
        expect(adds).toBeGreaterThan(0);
        expect(diff).toEqual({ lost: 0, extra: 0 });
        expect((await env.store.exportRuns.get(started.runId)).status).toBe('completed');
      } finally {
        env.sandbox.faults.set({ latencyMs: null });
      }
    },
    scale.testTimeoutMs,
  );
});
