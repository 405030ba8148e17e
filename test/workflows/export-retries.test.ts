import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfileSource } from '../../src/sources/profile-source.js';
import { openDb, type Db } from '../../src/store/db.js';
import { startExport } from '../../src/temporal/start-export.js';
import { ExportFailureType, STEP_MAX_ATTEMPTS, type ExportResult } from '../../src/workflows/contracts.js';
import { connectTemporal, testDatabaseUrl, uniqueTaskQueue } from '../support/context.js';
import {
  createDestination,
  createExportEnv,
  inProcessWorker,
  targetOf,
  type ExportEnv,
} from '../support/export-env.js';
import { attemptsOf, decodedHistory } from '../support/history.js';

type ExportFn = (i: unknown) => Promise<ExportResult>;

/**
 * Real PostgreSQL errors in an export's steps. The source's segments are conditions the source accepts (it
 * EXPLAINs them, never runs them) and that fail only when the freeze runs them: a cast a value cannot take
 * (22P02, whose text quotes the profile's e-mail), a column renamed under the worker (42703), and a query slower
 * than the source role's statement_timeout (57014, transient).
 */
describe('export step retries: capped, and not at all for SQL data and syntax errors', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let sourceDb: Db;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('wf-retries');

  beforeAll(async () => {
    env = await createExportEnv('wf_retries', 300);
    temporal = await connectTemporal();
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c statement_timeout=300');
    sourceDb = await openDb({ url: url.toString(), maxConnections: 4 });
    const source = await createProfileSource(sourceDb, {
      ...env.sourceConfig,
      membership: {
        kind: 'conditions',
        segments: {
          bad_cast: 'email::int > 0',
          renamed: 'marketing_consent IS NOT NULL',
          slow: '(SELECT pg_sleep(1)) IS NULL',
        },
      },
    });
    worker = await inProcessWorker(env, temporal, taskQueue, 100, { source });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await sourceDb?.close();
    await env?.close();
  });

  const exportSegment = async (segment: string) => {
    const destination = await createDestination(env, { config: { segments: [segment] } });
    const started = await startExport(temporal.client, targetOf(destination, [segment], 'add'), {
      taskQueue,
      trigger: 'manual',
      timings: { healthCheckDelaysMs: [], stepRetryInitialInterval: '100ms', stepRetryMaximumInterval: '100ms' },
    });
    const handle = temporal.client.workflow.getHandle<ExportFn>(started.workflowId, started.temporalRunId);
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const history = await handle.fetchHistory();
    return { history, run: await env.store.exportRuns.get(started.runId) };
  };

  it('fails a run at once, saying what to check, when a segment condition cannot take a value (SQLSTATE 22)', async () => {
    const { history, run } = await exportSegment('bad_cast');
    expect(attemptsOf(history, 'freezeSegment')).toEqual([1]);
    expect(run.status).toBe('failed');
    expect(run.errorType).toBe(ExportFailureType.QueryRejected);
    expect(run.errorMessage).toMatch(/refused a query of the freeze step with SQLSTATE 22P02 \(a data exception/);
    expect(run.errorMessage).toContain('PROFILE_SOURCE');
    // PostgreSQL's text ("invalid input syntax for type integer: "<an e-mail>"") reaches neither the history
    // nor the record.
    const text = decodedHistory(history);
    expect(text).toContain(ExportFailureType.QueryRejected);
    for (const shown of [text, String(run.errorMessage)]) {
      expect(shown).not.toMatch(/invalid input syntax/);
      expect(shown).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
    }
  });

  it('fails a run at once when a column it reads was renamed under the worker (SQLSTATE 42)', async () => {
    await env.db.query(`ALTER TABLE ${env.tables.profilesTable} RENAME COLUMN marketing_consent TO consent_moved`);
    try {
      const { history, run } = await exportSegment('renamed');
      expect(attemptsOf(history, 'freezeSegment')).toEqual([1]);
      expect(run.errorType).toBe(ExportFailureType.QueryRejected);
      expect(run.errorMessage).toMatch(/SQLSTATE 42703 \(a syntax error or access rule violation/);
      expect(decodedHistory(history)).not.toMatch(/marketing_consent|does not exist/);
    } finally {
      await env.db.query(`ALTER TABLE ${env.tables.profilesTable} RENAME COLUMN consent_moved TO marketing_consent`);
    }
  });

  it(`retries a step's transient error ${STEP_MAX_ATTEMPTS} times, then fails the run with its reason`, async () => {
    const { history, run } = await exportSegment('slow');
    const attempts = attemptsOf(history, 'freezeSegment');
    expect(attempts).toHaveLength(1); // the history records the last attempt's start
    expect(attempts[0]).toBe(STEP_MAX_ATTEMPTS);
    expect(run.status).toBe('failed');
    expect(run.errorMessage).toMatch(/statement timeout/);
    expect(attemptsOf(history, 'finalizeExport')).toEqual([1]);
  });
});
