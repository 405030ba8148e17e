import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ensureTokenCheckSchedule, tokenCheckScheduleId } from '../../src/temporal/token-check-schedule.js';
import { runCli, type CliProcess } from '../support/cli-process.js';
import { connectTemporal, openSchemaDb, schemaDatabaseUrl, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';

const SCHEMA = 'token_check_schedule';

interface TokenCheckSummary {
  checked: number;
  needsReconnect: string[];
}

/**
 * #21: the daily token check must exist without a set-up step. A real `audience-export worker` process creates its
 * schedule on the server at start; triggered, it runs the check on that worker and flags the broken token.
 */
describe('the daily token-check schedule, created by `audience-export worker` at start', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let client: Client;
  let worker: CliProcess | undefined;
  const taskQueue = uniqueTaskQueue('token-check-schedule');
  const scheduleId = tokenCheckScheduleId(taskQueue);

  beforeAll(async () => {
    // A schema of its own: the check walks every destination, and other files' belong to other sandboxes.
    env = await createExportEnv(SCHEMA, 10, {}, await openSchemaDb(SCHEMA));
    temporal = await connectTemporal();
    client = temporal.client;
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await temporal?.close();
    await env?.close();
  });

  it('exists once the worker polls, fires daily at 06:00 UTC, and is left as it is by the next start', async () => {
    worker = runCli(
      ['worker'],
      env.childEnv({
        DATABASE_URL: schemaDatabaseUrl(SCHEMA),
        TEMPORAL_TASK_QUEUE: taskQueue,
        WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      }),
    );
    await worker.waitFor(new RegExp(`created the daily token-check schedule '${scheduleId.replace(/\./g, '\\.')}'`));

    const described = await client.schedule.getHandle(scheduleId).describe();
    expect(described.spec.calendars).toEqual([
      expect.objectContaining({ hour: [{ start: 6, end: 6, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] }),
    ]);
    expect(described.spec.timezone).toBe('UTC');
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'checkTokens', taskQueue });
    // What the next worker's start does: it finds the schedule and changes nothing.
    expect(await ensureTokenCheckSchedule(client, taskQueue)).toBe(false);
    expect((await client.schedule.getHandle(scheduleId).describe()).info.createdAt).toEqual(described.info.createdAt);
  });

  it('triggered, runs the token check on the worker and flags a destination whose token stopped working', async () => {
    const healthy = await createDestination(env);
    const expired = await createDestination(env, { token: env.sandbox.fixtures.expiredToken });
    await client.schedule.getHandle(scheduleId).trigger();

    const deadline = Date.now() + 60_000;
    let runId: string | undefined;
    while (!runId) {
      runId = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions.at(-1)?.action.workflow
        .workflowId;
      if (!runId && Date.now() > deadline) throw new Error(`the schedule started nothing:\n${worker!.output()}`);
      if (!runId) await new Promise((r) => setTimeout(r, 200));
    }
    const summary = (await client.workflow.getHandle(runId).result()) as TokenCheckSummary;
    expect(summary.checked).toBe(2);
    expect(summary.needsReconnect).toEqual([expired.id]);
    expect((await env.store.destinations.get(expired.id)).status).toBe('needs_reconnect');
    expect((await env.store.destinations.get(healthy.id)).status).toBe('active');
  });
});
