import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeSegmentShare } from '../../src/demo/demo-seed.js';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { currentExecution } from '../../src/temporal/run-execution.js';
import { installQuietRuntime, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, inProcessWorker, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { runExport } from '../support/run-export.js';

/**
 * A server that suggests continue-as-new after a few dozen events: the export continues between its removes and
 * its adds (never with an upload session open) and still ends exactly right.
 */
describe('exportSegment continues as new between phases when the history grows', () => {
  let env: ExportEnv;
  let server: DevServer;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;

  beforeAll(async () => {
    installQuietRuntime();
    server = await startDevServer({
      cliPath: ensureTemporalCli(),
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=30'],
    });
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: 'default' });
    env = await createExportEnv('wf_can', 8_000);
  });
  afterAll(async () => {
    await nativeConnection.close();
    await connection.close();
    await server.stop();
    await env.close();
  });

  it('a mirror refresh with many removals continues as new and the audience equals the segment', async () => {
    const taskQueue = uniqueTaskQueue('export-can');
    const worker = await inProcessWorker(env, { client, nativeConnection }, taskQueue, 200);
    await worker.runUntil(async () => {
      const destination = await createDestination(env, { config: { mode: 'mirror' } });
      await runExport(client, taskQueue, destination, ['all'], 'mirror');
      await changeSegmentShare(env.db, { ...env.tables, segment: 'all', share: 0.9, seed: 5 });
      const refreshed = await env.store.destinations.get(destination.id);
      const { started, result } = await runExport(client, taskQueue, refreshed, ['all'], 'mirror');

      // The first execution of the refresh continued as new; the last one completed.
      const first = await client.workflow.getHandle(started.workflowId, started.temporalRunId).describe();
      expect(first.status.name).toBe('CONTINUED_AS_NEW');
      // Readers of the run (API, reconciler, staging sweep) follow the chain from the recorded first execution.
      const current = await currentExecution(client, started.workflowId, started.temporalRunId);
      expect(current).toMatchObject({ workflowId: started.workflowId, status: 'COMPLETED' });
      expect(current!.runId).not.toBe(started.temporalRunId);
      expect(result.status).toBe('completed');
      expect(result.runId).toBe(started.runId);
      expect(result.progress.rowsRemoved).toBeGreaterThan(0);

      const after = await expectedRows(env.db, env.tables, ['all']);
      const members = await sandboxMembers(env.sandbox, result.audienceId);
      expect([...after.rows].filter((r) => !members.rows.has(r))).toEqual([]);
      const run = await env.store.exportRuns.get(started.runId);
      expect(run.status).toBe('completed');
      expect(run.removed).toBe(result.progress.rowsRemoved);
    });
  });
});
