import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { freePort } from '../../src/ports.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import type { ExportResult } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { installQuietRuntime, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { audienceDiff, inconsistentBatches, sleep } from '../support/faults/audit.js';
import { until } from '../support/wait.js';
import { startFaultExport, type ExportHandle } from '../support/faults/fault-export.js';
import { killAllWorkers, killProcess, startWorkerProcess } from '../support/faults/worker-process.js';
import { PAGE_SIZE, scale } from './scale.js';

describe('Temporal server restart mid-run (a dev server of its own, state in a file)', () => {
  let env: ExportEnv;
  let dir: string;
  let server: DevServer | undefined;
  let connection: Connection | undefined;

  beforeAll(async () => {
    installQuietRuntime();
    dir = await mkdtemp(join(tmpdir(), 'ae-faults-temporal-'));
    env = await createExportEnv('flt_restart', scale.profiles);
    env.sandbox.faults.set({ latencyMs: [150, 400] });
  });
  afterAll(async () => {
    await killAllWorkers();
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await env?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'the server is killed and started again on the same port and file; the worker reconnects and the run completes exactly',
    async () => {
      const t0 = Date.now();
      const cliPath = ensureTemporalCli();
      const port = await freePort();
      const dbFilename = join(dir, 'temporal.db');
      server = await startDevServer({ cliPath, port, dbFilename });
      connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection, namespace: 'default' });

      const taskQueue = uniqueTaskQueue('restart');
      const worker = startWorkerProcess(
        env.childEnv({
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_NAMESPACE: 'default',
          TEMPORAL_TASK_QUEUE: taskQueue,
          EXPORT_PAGE_SIZE: String(PAGE_SIZE),
          EXPORT_PAGE_CONCURRENCY: '2',
        }),
      );
      await worker.ready;
      const destination = await createDestination(env);
      const { handle, started } = await startFaultExport(client, taskQueue, destination, ['all'], 'add');
      await until(async () => (await handle.query(progressQuery)).pagesDone >= 2, 120_000);
      const pagesAtKill = (await env.store.exportRuns.get(started.runId)).pagesDone;

      await killProcess(server.process);
      const downAt = Date.now();
      await sleep(3_000);
      server = await startDevServer({ cliPath, port, dbFilename });
      const downMs = Date.now() - downAt;

      const result = await resultThroughOutage(handle);
      const expected = await expectedRows(env.db, env.tables, ['all']);
      const members = await sandboxMembers(env.sandbox, result.audienceId);
      const diff = audienceDiff(expected.rows, members.rows);
      const batches = await inconsistentBatches(env.sandbox);
      console.log(
        `[faults] temporal restart: runs=1 restarts=1 server down=${(downMs / 1000).toFixed(1)}s pages done at kill=${pagesAtKill}/${result.progress.pagesTotal} ` +
          `rows lost=${diff.lost} rows extra=${diff.extra} time=${((Date.now() - t0) / 1000).toFixed(1)}s`,
      );
      expect(pagesAtKill).toBeLessThan(result.progress.pagesTotal);
      expect(result.status).toBe('completed');
      expect(diff).toEqual({ lost: 0, extra: 0 });
      expect(batches.inconsistent).toEqual([]);
      // The same worker process carried on: it reconnected rather than died.
      expect(worker.child.exitCode).toBeNull();
      expect(worker.child.signalCode).toBeNull();
      expect((await env.store.exportRuns.get(started.runId)).status).toBe('completed');
    },
    scale.testTimeoutMs,
  );
});

/** The run's result, asking again while the server is still coming back (the client reconnects by itself). */
async function resultThroughOutage(handle: ExportHandle): Promise<ExportResult> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      return await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}
