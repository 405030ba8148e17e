import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startExport } from '../../src/temporal/start-export.js';
import { createExportWorker } from '../../src/worker.js';
import type { ExportResult } from '../../src/workflows/contracts.js';
import { RowBuilderPool } from '../../src/row-builder/pool.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, targetOf, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';

const PROFILES = 9_000;
const PAGE_SIZE = 3_000;

describe('an export whose pages are built by the row-builder pool, on the real dev server, PostgreSQL and sandbox', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let taskQueue: string;
  let worker: Worker;
  let running: Promise<void>;
  let pool: RowBuilderPool;
  let pagesOnThreads = 0;

  beforeAll(async () => {
    env = await createExportEnv('wf_pool', PROFILES);
    temporal = await connectTemporal();
    taskQueue = uniqueTaskQueue('export-pool');
    pool = new RowBuilderPool({ threads: 1, minPageSize: 2_000, inlineWhenBusy: false });
    // Count the pages the activity hands the pool: each is large enough for a thread, and with one thread and
    // inlineWhenBusy off none is built inline.
    const build = pool.build.bind(pool);
    pool.build = (page) => {
      if (page.profiles.length >= pool.minPageSize) pagesOnThreads += 1;
      return build(page);
    };
    worker = await createExportWorker({
      config: loadConfig({ TEMPORAL_NAMESPACE: inject('temporalNamespace'), TEMPORAL_TASK_QUEUE: taskQueue }),
      connection: temporal.nativeConnection,
      client: temporal.client,
      resources: { ...env.resources, rowBuilder: pool },
      overrides: env.overrides(PAGE_SIZE),
      taskQueue,
      workflowBundlePath: inject('workflowBundlePath'),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await pool.close();
    await temporal.close();
    await env.close();
  });

  it('sends exactly the usable profiles, with the drops counted by reason', async () => {
    const destination = await createDestination(env);
    const started = await startExport(temporal.client, targetOf(destination, ['all'], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: { healthCheckDelaysMs: [] },
    });
    const handle = temporal.client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId);
    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(pagesOnThreads).toBe(PROFILES / PAGE_SIZE);
    const expected = await expectedRows(env.db, env.tables, ['all']);
    const members = await sandboxMembers(env.sandbox, result.audienceId);
    expect(members.rows.size).toBe(expected.rows.size);
    expect([...expected.rows].filter((r) => !members.rows.has(r)).slice(0, 3)).toEqual([]);
    expect(result.progress.rowsSent).toBe(expected.usableKeys.size);
    expect(result.progress.rowsDropped).toBe(expected.dropped);
    expect(result.progress.rowsDropped).toBeGreaterThan(0);
  });
});
