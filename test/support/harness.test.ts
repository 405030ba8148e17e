import { Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { searchAttributes } from '../../src/workflows/search-attributes.js';
import { harnessWorkflow } from './harness-workflows.js';
import { connectTemporal, openTestDb, uniqueTaskQueue } from './context.js';

describe('test harness', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;

  beforeAll(async () => {
    db = await openTestDb();
    temporal = await connectTemporal();
  });
  afterAll(async () => {
    await temporal.close();
    await db.close();
  });

  it('queries this run’s own PostgreSQL database and applies migrations idempotently', async () => {
    const [row] = await db.query<{ db: string; version: string }>(
      'SELECT current_database() AS db, current_setting($1) AS version',
      ['server_version_num'],
    );
    expect(row?.db).toMatch(/^ae_test_/);
    expect(Number(row?.version)).toBeGreaterThanOrEqual(130000);
    await migrate(db);
    expect(await migrate(db)).toEqual([]);
    const tables = await db.query<{ n: number }>(
      // In this schema: other test files may migrate schemas of their own in the same database.
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = current_schema()",
    );
    expect(tables[0]?.n).toBe(1);
  });

  it('runs a real workflow and activity on the dev server, with our search attributes registered', async () => {
    await db.query('CREATE TABLE harness_rows AS SELECT g AS id FROM generate_series(1, 42) g');
    const taskQueue = uniqueTaskQueue('harness');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./harness-workflows.ts', import.meta.url)),
      activities: {
        countRows: async (table: string) =>
          (
            await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table === 'harness_rows' ? table : 'x'}`)
          )[0]!.n,
      },
    });
    const workflowId = `harness-${taskQueue}`;
    const result = await worker.runUntil(
      temporal.client.workflow.execute(harnessWorkflow, { taskQueue, workflowId, args: ['harness_rows'] }),
    );
    expect(result).toEqual({ rows: 42, attempt: 1 });

    const description = await temporal.client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(searchAttributes.trigger)).toBe('manual');
  });
});
