import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { connectTemporal, testDatabaseUrl, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { attemptsOf } from '../support/history.js';
import { audienceDiff, inconsistentBatches, sleep } from '../support/faults/audit.js';
import { until } from '../support/wait.js';
import { startFaultExport } from '../support/faults/fault-export.js';
import { startTcpProxy, type TcpProxy } from '../support/faults/tcp-proxy.js';
import { killAllWorkers, startWorkerProcess } from '../support/faults/worker-process.js';
import { FULL, PAGE_SIZE, scale } from './scale.js';

/** Outages per run: each cuts PostgreSQL off from the worker at a later point of the upload. */
const OUTAGES = FULL ? 3 : 1;

describe('PostgreSQL cut off from the worker mid-run (through a TCP proxy; the cluster keeps running)', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let proxy: TcpProxy;

  beforeAll(async () => {
    env = await createExportEnv('flt_dbcut', scale.profiles);
    temporal = await connectTemporal();
    const target = new URL(testDatabaseUrl());
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    env.sandbox.faults.set({ latencyMs: [200, 500] });
  });
  afterAll(async () => {
    await killAllWorkers();
    await proxy?.close();
    await temporal?.close();
    await env?.close();
  });

  it(
    'activities retry through the outage and the run completes with the exact audience',
    async () => {
      const t0 = Date.now();
      const viaProxy = new URL(testDatabaseUrl());
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const taskQueue = uniqueTaskQueue('dbcut');
      const worker = startWorkerProcess(
        env.childEnv({
          DATABASE_URL: viaProxy.toString(),
          TEMPORAL_TASK_QUEUE: taskQueue,
          EXPORT_PAGE_SIZE: String(PAGE_SIZE),
          EXPORT_PAGE_CONCURRENCY: '2',
        }),
      );
      await worker.ready;
      const destination = await createDestination(env);
      const { handle, started } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'add');
      const outcome = handle.result();
      outcome.catch(() => undefined);

      // If the worker dies, say why (its last lines), rather than only that no poller is left.
      worker.child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') console.log(`[faults] worker exited (${code ?? signal}):\n${worker.output()}`);
      });
      const cuts: number[] = [];
      for (let i = 1; i <= OUTAGES; i++) {
        await until(async () => (await handle.query(progressQuery)).pagesTotal > 0, 120_000);
        const progress = await handle.query(progressQuery);
        const target = Math.max(1, Math.floor(progress.pagesTotal * (i / (OUTAGES + 2))));
        await until(async () => (await handle.query(progressQuery)).pagesDone >= target, 120_000);
        cuts.push((await handle.query(progressQuery)).pagesDone);
        await proxy.cut();
        await sleep(scale.dbOutageMs);
        await proxy.restore();
      }

      const result = await outcome;
      const expected = await expectedRows(env.db, env.tables, ['all']);
      const members = await sandboxMembers(env.sandbox, result.audienceId);
      const diff = audienceDiff(expected.rows, members.rows);
      const batches = await inconsistentBatches(env.sandbox);
      const attempts = attemptsOf(await handle.fetchHistory(), 'uploadPage');
      const retried = attempts.filter((a) => a > 1).length;
      console.log(
        `[faults] database outage: runs=1 outages=${OUTAGES} of ${scale.dbOutageMs / 1000}s at pages ${cuts.join(',')}/${result.progress.pagesTotal} ` +
          `page attempts retried=${retried} rows lost=${diff.lost} rows extra=${diff.extra} time=${((Date.now() - t0) / 1000).toFixed(1)}s`,
      );
      expect(result.status).toBe('completed');
      expect(diff).toEqual({ lost: 0, extra: 0 });
      expect(batches.inconsistent).toEqual([]);
      expect(cuts.every((pages) => pages < result.progress.pagesTotal)).toBe(true);
      // The worker lived through it: its pool reconnected rather than the process dying.
      expect(worker.child.exitCode).toBeNull();
      expect((await env.store.exportRuns.get(started.runId)).status).toBe('completed');
    },
    scale.testTimeoutMs,
  );

  it('a connection lost between the queries of a transaction fails that transaction, not the process', async () => {
    const target = new URL(testDatabaseUrl());
    const own = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(testDatabaseUrl());
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(own.port);
    const db = await openDb({ url: viaProxy.toString(), maxConnections: 1 });
    try {
      // Unfixed, the checked-out client's 'error' event had no listener: an uncaught error ended the process
      // (vitest reports it as an unhandled error and fails the run).
      const failed = await db
        .transaction(async (tx) => {
          await tx.query('SELECT 1');
          await own.cut();
          await sleep(200);
          await tx.query('SELECT 1');
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failed).toBeInstanceOf(Error);
      await own.restore();
      // The broken client was discarded: the pool's one slot serves again.
      expect(await db.query<{ x: number }>('SELECT 2 AS x')).toEqual([{ x: 2 }]);
    } finally {
      await db.close();
      await own.close();
    }
  });
});
