import { WorkflowFailedError } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DestinationStatus } from '../../src/store/index.js';
import { startExport } from '../../src/temporal/start-export.js';
import { ExportFailureType, type ExportResult } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { attemptsOf, decodedHistory, recordHistory } from '../support/history.js';
import {
  createDestination,
  createExportEnv,
  startExportWorld,
  targetOf,
  type ExportEnv,
} from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { until } from '../support/wait.js';

const PROFILES = 50_000;
const NO_HEALTH_CHECKS = { healthCheckDelaysMs: [] as number[] };

describe('exportSegment, add mode, on the real dev server, PostgreSQL and the sandbox', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let taskQueue: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ env, temporal, taskQueue, stop } = await startExportWorld('wf_add', PROFILES));
  });
  afterAll(() => stop());

  it('exports a 50,000-profile segment: the audience holds exactly the usable profiles, drops counted by reason', async () => {
    const destination = await createDestination(env);
    const started = await startExport(temporal.client, targetOf(destination, ['all'], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: NO_HEALTH_CHECKS,
    });
    const handle = temporal.client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId);
    const result = await handle.result();

    expect(result.status).toBe('completed');
    await recordHistory('export-add', started.workflowId, started.temporalRunId);
    const expected = await expectedRows(env.db, env.tables, ['all']);
    const members = await sandboxMembers(env.sandbox, result.audienceId);
    expect(members.rows.size).toBe(expected.rows.size);
    const missing = [...expected.rows].filter((r) => !members.rows.has(r));
    expect(missing.slice(0, 3)).toEqual([]);

    const p = result.progress;
    expect(p.rowsTotal).toBe(PROFILES);
    expect(p.rowsSent).toBe(expected.usableKeys.size);
    expect(p.rowsDropped).toBe(expected.dropped);
    expect(p.rowsDropped).toBeGreaterThan(0);
    expect(Object.keys(p.droppedByReason).sort()).toEqual(expect.arrayContaining(['key_identifier_missing']));
    expect(p.pagesDone).toBe(p.pagesTotal);

    const run = await env.store.exportRuns.get(started.runId);
    expect(run.status).toBe('completed');
    expect(run.segmentSize).toBe(PROFILES);
    expect(run.sent).toBe(expected.usableKeys.size);
    expect(run.dropped).toEqual(p.droppedByReason);
    expect(run.audienceId).toBe(result.audienceId);
    expect(run.audienceUpperBound).toBeGreaterThan(0);
    // The staging table is gone.
    expect(await env.source.countFrozen(started.runId).catch(() => -1)).toBe(-1);

    // Readable in the UI: a static summary in words and our search attributes.
    const description = await handle.describe();
    expect(await description.staticSummary()).toMatch(/^Export segment 'all' to audience '.+' \(act_\d+\), add mode$/);

    // No personal data, hash or token anywhere in the history (payloads decoded).
    const history = decodedHistory(await handle.fetchHistory());
    const samples = await env.db.query<{ email: string | null; phone: string | null; last_name: string | null }>(
      `SELECT email, phone, last_name FROM ${env.tables.profilesTable} WHERE email IS NOT NULL LIMIT 300`,
    );
    for (const s of samples) {
      expect(history).not.toContain(s.email!.trim());
      if (s.phone && s.phone.replace(/\D/g, '').length >= 7) expect(history).not.toContain(s.phone);
      if (s.last_name && s.last_name.length >= 5) expect(history).not.toContain(s.last_name);
    }
    for (const row of [...members.rows].slice(0, 500)) {
      const emailHash = (JSON.parse(row) as string[])[1]!;
      expect(history).not.toContain(emailHash);
    }
    expect(history).not.toContain(env.sandbox.fixtures.systemUserToken);
    expect(history).not.toContain(env.sandbox.fixtures.appSecret);
  });

  it('fails at once, with an operator message, when the token has expired: the destination needs reconnecting', async () => {
    const destination = await createDestination(env, { token: env.sandbox.fixtures.expiredToken });
    const started = await startExport(temporal.client, targetOf(destination, ['vip'], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: NO_HEALTH_CHECKS,
    });
    const err = await temporal.client.workflow
      .getHandle(started.workflowId)
      .result()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = failureCause(err);
    expect(cause.type).toBe(ExportFailureType.TokenInvalid);
    expect(cause.message).toMatch(/Reconnect Facebook/);
    expect((await env.store.destinations.get(destination.id)).status).toBe(DestinationStatus.NeedsReconnect);
    const raw = await temporal.client.workflow.getHandle(started.workflowId).fetchHistory();
    expect(decodedHistory(raw)).not.toContain(env.sandbox.fixtures.expiredToken);
    // One attempt: a non-retryable failure.
    expect(attemptsOf(raw, 'validateExport')).toEqual([1]);
  });

  it('fails at once without consent', async () => {
    const destination = await createDestination(env, { consent: false });
    const started = await startExport(temporal.client, targetOf(destination, ['vip'], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: NO_HEALTH_CHECKS,
    });
    const err = await temporal.client.workflow
      .getHandle(started.workflowId)
      .result()
      .catch((e: unknown) => e);
    const cause = failureCause(err);
    expect(cause.type).toBe(ExportFailureType.ConsentMissing);
    expect(cause.message).toMatch(/consent/);
    expect(cause.message).toContain(`/destinations/${destination.id}/consent`);
  });

  it('joins the running export of an audience instead of starting a second one', async () => {
    const destination = await createDestination(env, { existingAudience: true });
    env.sandbox.faults.set({ latencyMs: 150 });
    try {
      const target = targetOf(destination, ['all'], 'add');
      const first = await startExport(temporal.client, target, {
        taskQueue,
        trigger: 'manual',
        timings: NO_HEALTH_CHECKS,
      });
      const second = await startExport(temporal.client, target, {
        taskQueue,
        trigger: 'refresh',
        timings: NO_HEALTH_CHECKS,
      });
      expect(first.joined).toBe(false);
      expect(second.joined).toBe(true);
      expect(second.workflowId).toBe(first.workflowId);
      expect(second.temporalRunId).toBe(first.temporalRunId);
      expect(second.runId).toBe(first.runId);
      const handle = temporal.client.workflow.getHandle(first.workflowId);
      const progress = await handle.query(progressQuery);
      expect(progress.runId).toBe(first.runId);
      await handle.result();
      const runs = await env.store.exportRuns.list({ destinationId: destination.id });
      expect(runs.items.map((r) => r.id)).toEqual([first.runId]);
    } finally {
      env.sandbox.faults.set({ latencyMs: null });
    }
  });
});

describe('exportSegment survives a worker killed mid-run', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await createExportEnv('wf_kill', 20_000);
    temporal = await connectTemporal();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await temporal.close();
    await env.close();
  });

  it('completes after SIGKILL and restart, with the audience exactly right and no batch resent with other rows', async () => {
    const taskQueue = uniqueTaskQueue('export-kill');
    const childEnv = env.childEnv({
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_PAGE_SIZE: '1000',
      EXPORT_PAGE_CONCURRENCY: '2',
    });
    const startWorker = () => {
      const child = spawn(process.execPath, [cliPath, 'worker'], {
        env: childEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(child);
      return child;
    };
    env.sandbox.faults.set({ latencyMs: 250 });
    const destination = await createDestination(env);
    const first = startWorker();
    const started = await startExport(temporal.client, targetOf(destination, ['all'], 'add'), {
      taskQueue,
      trigger: 'manual',
      pageConcurrency: 2,
      timings: { ...NO_HEALTH_CHECKS, pageHeartbeatTimeout: '4s' },
    });
    const handle = temporal.client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId);
    await until(async () => (await handle.query(progressQuery)).pagesDone >= 4, 120_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const pagesAtKill = (await env.store.exportRuns.get(started.runId)).pagesDone;
    expect(pagesAtKill).toBeLessThan(20);
    startWorker();
    const result = await handle.result();
    env.sandbox.faults.set({ latencyMs: null });

    expect(result.status).toBe('completed');
    const expected = await expectedRows(env.db, env.tables, ['all']);
    const members = await sandboxMembers(env.sandbox, result.audienceId);
    expect(members.rows.size).toBe(expected.rows.size);
    expect([...expected.rows].filter((r) => !members.rows.has(r))).toEqual([]);
    expect(result.progress.rowsSent).toBe(expected.usableKeys.size);

    // Every (session, batch) the sandbox saw carried the same rows each time it was sent.
    const log = (await (await fetch(`${env.sandbox.url}/__sandbox/requests?limit=100000`)).json()) as {
      requests: Array<{ sessionId?: string; batchSeq?: number; dataHash?: string; status: number }>;
    };
    const byBatch = new Map<string, Set<string>>();
    for (const r of log.requests.filter((x) => x.batchSeq !== undefined && x.dataHash)) {
      const key = `${r.sessionId}/${r.batchSeq}`;
      byBatch.set(key, (byBatch.get(key) ?? new Set()).add(r.dataHash!));
    }
    expect(byBatch.size).toBeGreaterThan(0);
    for (const hashes of byBatch.values()) expect(hashes.size).toBe(1);
  });
});

const cliPath = fileURLToPath(new URL('../../bin/audience-export.mjs', import.meta.url));

function failureCause(err: unknown): { type?: string; message: string } {
  let e = err as { cause?: unknown; type?: string; message: string };
  while (e.cause && !(e as { type?: string }).type) e = e.cause as typeof e;
  return { type: e.type, message: e.message };
}
