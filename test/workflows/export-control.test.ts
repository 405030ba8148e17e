import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRunningExports } from '../../src/api/services/temporal-control.js';
import { startExport } from '../../src/temporal/start-export.js';
import { FailureType, type ExportResult } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import type { connectTemporal } from '../support/context.js';
import { attemptsOf, recordHistory } from '../support/history.js';
import { createDestination, startExportWorld, targetOf, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { lastCallSeq, sandboxCalls } from '../support/run-export.js';
import { until } from '../support/wait.js';

type ExportFn = (i: unknown) => Promise<ExportResult>;

describe('export control: throttling, cancellation, abort, health checks', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let taskQueue: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ env, temporal, taskQueue, stop } = await startExportWorld('wf_control', 12_000, 1_000));
  });
  afterAll(() => stop());

  const start = async (
    destination: Awaited<ReturnType<typeof createDestination>>,
    options: { pageConcurrency?: number; healthCheckDelaysMs?: number[] } = {},
  ) => {
    const started = await startExport(temporal.client, targetOf(destination, ['all'], 'add'), {
      taskQueue,
      trigger: 'manual',
      pageConcurrency: options.pageConcurrency ?? 1,
      timings: { healthCheckDelaysMs: options.healthCheckDelaysMs ?? [] },
    });
    return { started, handle: temporal.client.workflow.getHandle<ExportFn>(started.workflowId) };
  };

  it('a throttle pauses the whole fan-out once, with no call during the block; another export to the account waits too', async () => {
    const blockMs = 4_000;
    const first = await createDestination(env);
    const second = await createDestination(env);
    const mark = await lastCallSeq(env.sandbox.url);
    // Budget runs out after 6 more calls to the ad account; then a 4-second block.
    env.sandbox.faults.set({ throttle: { callsPerWindow: 6, windowMs: 3_600_000, blockMs } });
    try {
      const a = await start(first);
      await until(
        async () => (await sandboxCalls(env.sandbox.url, mark)).some((c) => c.errorCode === 80003),
        60_000,
        10,
      );
      // The block in force stays; no new budget runs out after it.
      env.sandbox.faults.set({ throttle: null });
      const b = await start(second);
      const [ra, rb] = await Promise.all([a.handle.result(), b.handle.result()]);
      await recordHistory('export-throttled', a.started.workflowId, a.started.temporalRunId);

      const calls = await sandboxCalls(env.sandbox.url, mark);
      const throttled = calls.filter((c) => c.errorCode === 80003);
      expect(throttled).toHaveLength(1);
      const blockStart = (throttled[0] as { atMs?: number }).atMs!;
      const during = calls.filter(
        (c) =>
          (c as { atMs?: number }).atMs! > blockStart && (c as { atMs?: number }).atMs! < blockStart + blockMs - 50,
      );
      expect(during).toEqual([]);

      expect(ra.progress.waitedMs).toBeGreaterThanOrEqual(blockMs - 500);
      expect(ra.progress.waitedMs).toBeLessThan(blockMs * 2);
      expect(rb.status).toBe('completed');
      const expected = await expectedRows(env.db, env.tables, ['all']);
      expect((await sandboxMembers(env.sandbox, ra.audienceId)).rows).toEqual(expected.rows);
      expect((await sandboxMembers(env.sandbox, rb.audienceId)).rows).toEqual(expected.rows);
      // Waiting spent no retries: every page activity ran exactly once.
      const attempts = attemptsOf(await a.handle.fetchHistory(), 'uploadPage');
      expect(attempts.length).toBeGreaterThan(0);
      expect(new Set(attempts)).toEqual(new Set([1]));
    } finally {
      env.sandbox.faults.set({ throttle: null });
    }
  });

  it('cancel mid-run: ends cancelled, the record says how far it got, and no call is made after it settles', async () => {
    const destination = await createDestination(env);
    env.sandbox.faults.set({ latencyMs: 300 });
    try {
      const { started, handle } = await start(destination, { pageConcurrency: 2 });
      await until(async () => (await handle.query(progressQuery)).pagesDone >= 2);
      await handle.cancel();
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      await recordHistory('export-cancelled', started.workflowId, started.temporalRunId);
      const settledAt = Date.now();
      const run = await env.store.exportRuns.get(started.runId);
      expect(run.status).toBe('cancelled');
      expect(run.pagesDone).toBeGreaterThanOrEqual(2);
      expect(run.pagesDone).toBeLessThan(run.pagesTotal!);
      expect(run.sent).toBeGreaterThan(0);
      const audienceId = run.audienceId!;
      const mark = await lastCallSeq(env.sandbox.url);
      await new Promise((r) => setTimeout(r, 1_500));
      const after = (await sandboxCalls(env.sandbox.url, mark)).filter(
        (c) => (c as { audienceId?: string }).audienceId === audienceId,
      );
      expect(after).toEqual([]);
      expect(settledAt).toBeGreaterThan(0);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  it('consent withdrawn mid-run aborts in-flight calls and ends the run at once', async () => {
    const destination = await createDestination(env);
    env.sandbox.faults.set({ latencyMs: 6_000 });
    try {
      const { started, handle } = await start(destination, { pageConcurrency: 2 });
      await until(async () => (await handle.query(progressQuery)).phase === 'uploading');
      await new Promise((r) => setTimeout(r, 500)); // two pages now wait 6 s for the sandbox
      await env.store.consents.withdraw(destination.id, { withdrawnBy: 'operator@example.test' });
      const t0 = Date.now();
      expect(await cancelRunningExports(temporal.client, destination.id, 'consent withdrawn')).toBe(1);
      await handle.result().catch(() => undefined);
      const elapsed = Date.now() - t0;
      expect(elapsed).toBeLessThan(4_000); // the in-flight calls would have taken 6 s
      await recordHistory('export-aborted', started.workflowId, started.temporalRunId);
      const run = await env.store.exportRuns.get(started.runId);
      expect(run.status).toBe('cancelled');
      expect(run.errorType).toBe(FailureType.Aborted);
      expect(run.errorMessage).toContain('consent withdrawn');
      expect(run.sent).toBe(0);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  it('a config changed mid-run does not change the pages still to send: the run uses the config it started with', async () => {
    const destination = await createDestination(env);
    const original = await env.store.exportConfigs.get(destination.id);
    env.sandbox.faults.set({ latencyMs: 200 });
    try {
      const { started, handle } = await start(destination);
      await until(async () => (await handle.query(progressQuery)).pagesDone >= 2);
      // Another key identifier, one key mapped, another segment and default country: every page left would differ.
      await env.store.exportConfigs.put(destination.id, {
        keyIdentifier: 'PHONE',
        mapping: { PHONE: { attribute: 'phone' } },
        segments: ['vip'],
        mode: 'add',
        defaultCountry: 'DE',
      });
      const result = await handle.result();
      expect(result.progress.pagesDone).toBe(12);
      const expected = await expectedRows(env.db, env.tables, ['all']);
      expect((await sandboxMembers(env.sandbox, result.audienceId)).rows).toEqual(expected.rows);
      const run = await env.store.exportRuns.get(started.runId);
      expect(run.exportConfig).toEqual({
        keyIdentifier: original.keyIdentifier,
        mapping: original.mapping,
        segments: original.segments,
        mode: original.mode,
        consentAttribute: original.consentAttribute,
        limitedDataUse: original.limitedDataUse,
        defaultCountry: original.defaultCountry,
      });
      expect((await env.store.exportConfigs.get(destination.id)).keyIdentifier).toBe('PHONE');
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });

  it('records the audience health again after the (shortened) delays', async () => {
    const destination = await createDestination(env, { config: { segments: ['one_percent'] } });
    const started = await startExport(temporal.client, targetOf(destination, ['one_percent'], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: { healthCheckDelaysMs: [300, 900] },
    });
    const result = await temporal.client.workflow.getHandle<ExportFn>(started.workflowId).result();
    expect(result.status).toBe('completed');
    await temporal.client.workflow.getHandle(`health:${started.runId}`).result();
    const run = await env.store.exportRuns.get(started.runId);
    expect(run.healthChecks).toHaveLength(2);
    for (const check of run.healthChecks) {
      expect(check.upperBound).toBeGreaterThan(0);
      expect(check.operationStatus).toBe(200);
    }
  });

  it('records size and status when the sessions route fails: the sessions figures are optional', async () => {
    const destination = await createDestination(env, { config: { segments: ['one_percent'] } });
    const mark = await lastCallSeq(env.sandbox.url);
    env.sandbox.faults.set({ failingRoutes: [{ route: 'GET node/sessions' }] });
    try {
      const { started, handle } = await start(destination);
      expect((await handle.result()).status).toBe('completed');
      const calls = await sandboxCalls(env.sandbox.url, mark);
      expect(calls.filter((c) => c.path.endsWith('/sessions') && c.errorCode === 2).length).toBeGreaterThan(0);
      // No later health check fills them in (no delays): the run's own finalisation recorded them.
      const run = await env.store.exportRuns.get(started.runId);
      expect(run.healthChecks).toEqual([]);
      expect(run.audienceLowerBound).toBeGreaterThan(0);
      expect(run.audienceUpperBound).toBeGreaterThanOrEqual(run.audienceLowerBound!);
      expect(run.operationStatusCode).toBe(200);
      expect(run.deliveryStatusCode).not.toBeNull();
      expect(run.matched).toBeNull();
    } finally {
      env.sandbox.faults.set({ failingRoutes: [] });
    }
  });
});
