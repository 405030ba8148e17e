import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CANONICAL_SCHEMA } from '../../src/domain/canonical-row.js';
import { changeSegmentShare } from '../../src/demo/demo-seed.js';
import type { Destination } from '../../src/store/index.js';
import type { ExportMode } from '../../src/domain/export-terms.js';
import type { ExportResult } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { connectTemporal, uniqueTaskQueue } from '../support/context.js';
import { createDestination, createExportEnv, type ExportEnv } from '../support/export-env.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';
import { audienceDiff, inconsistentBatches, sleep } from '../support/faults/audit.js';
import { until } from '../support/wait.js';
import { resultWithin, startFaultExport, type ExportHandle } from '../support/faults/fault-export.js';
import { faultSeed } from '../support/faults/random.js';
import { seededRandom } from '../support/seeded-random.js';
import { killAllWorkers, startWorkerProcess } from '../support/faults/worker-process.js';
import { lastCallSeq } from '../support/run-export.js';
import { PAGE_SIZE, scale } from './scale.js';

interface Figures {
  runs: number;
  kills: number;
  lost: number;
  extra: number;
  batches: number;
  inconsistent: number;
  ms: number;
}

describe('worker killed with SIGKILL at random moments, in every mode', () => {
  let env: ExportEnv;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  const seed = faultSeed();
  const random = seededRandom(seed);
  const figures = new Map<string, Figures>();

  beforeAll(async () => {
    env = await createExportEnv('flt_crash', scale.profiles);
    temporal = await connectTemporal();
    // Slow enough answers that a run lasts several seconds, so kills land in every phase of it.
    env.sandbox.faults.set({ latencyMs: [150, 450] });
  });
  afterAll(async () => {
    await killAllWorkers();
    const total = [...figures.values()].reduce(
      (t, f) => ({ runs: t.runs + f.runs, kills: t.kills + f.kills, lost: t.lost + f.lost, extra: t.extra + f.extra }),
      { runs: 0, kills: 0, lost: 0, extra: 0 },
    );
    for (const [mode, f] of figures) {
      console.log(
        `[faults] worker crashes, ${mode}: runs=${f.runs} kills=${f.kills} rows lost=${f.lost} rows extra=${f.extra} ` +
          `batches=${f.batches} batches resent with other rows=${f.inconsistent} time=${(f.ms / 1000).toFixed(1)}s`,
      );
    }
    console.log(
      `[faults] worker crashes, total: runs=${total.runs} kills=${total.kills} rows lost=${total.lost} ` +
        `rows extra=${total.extra} (seed ${seed}; replay with FAULTS_SEED=${seed})`,
    );
    await temporal?.close();
    await env?.close();
  });

  /**
   * Runs one export with a worker child process that is killed `kills` times at random moments (a random delay
   * after the worker polls) and started again each time. Counts only kills that land before the run ends.
   */
  async function exportWithKills(destination: Destination, mode: ExportMode, kills: number) {
    const taskQueue = uniqueTaskQueue(`crash-${mode}`);
    const workerEnv = env.childEnv({
      TEMPORAL_TASK_QUEUE: taskQueue,
      EXPORT_PAGE_SIZE: String(PAGE_SIZE),
      EXPORT_PAGE_CONCURRENCY: '2',
    });
    let worker = startWorkerProcess(workerEnv);
    await worker.ready;
    const { started, handle } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], mode);
    let done = false;
    const outcome = resultWithin(handle, 120_000).finally(() => {
      done = true;
    });
    let killed = 0;
    for (let k = 0; k < kills && !done; k++) {
      // A random moment (a replace's batch 1 in flight included), brought forward when the run nears its end, so
      // every planned kill lands mid-run.
      const killAt = Date.now() + 200 + random() * 2_500;
      while (Date.now() < killAt && !done && !(await nearTheEnd(handle))) await sleep(100);
      if (done) break;
      await worker.kill();
      killed += 1;
      worker = startWorkerProcess(workerEnv);
      await worker.ready;
    }
    const result = await outcome;
    await worker.kill();
    return { started, result, killed };
  }

  function record(mode: string, f: Omit<Figures, 'runs'>) {
    const t = figures.get(mode) ?? { runs: 0, kills: 0, lost: 0, extra: 0, batches: 0, inconsistent: 0, ms: 0 };
    figures.set(mode, {
      runs: t.runs + 1,
      kills: t.kills + f.kills,
      lost: t.lost + f.lost,
      extra: t.extra + f.extra,
      batches: t.batches + f.batches,
      inconsistent: t.inconsistent + f.inconsistent,
      ms: t.ms + f.ms,
    });
  }

  async function checkRun(
    mode: string,
    result: ExportResult,
    killed: number,
    expected: Set<string>,
    mark: number,
    t0: number,
  ) {
    const members = await sandboxMembers(env.sandbox, result.audienceId);
    const diff = audienceDiff(expected, members.rows);
    const batches = await inconsistentBatches(env.sandbox, mark);
    record(mode, {
      kills: killed,
      ...diff,
      batches: batches.batches,
      inconsistent: batches.inconsistent.length,
      ms: Date.now() - t0,
    });
    expect(result.status).toBe('completed');
    expect(diff).toEqual({ lost: 0, extra: 0 });
    expect(batches.batches).toBeGreaterThan(0);
    expect(batches.inconsistent).toEqual([]);
  }

  it(
    'add: every run completes with the exact audience, and no batch is resent with other rows',
    async () => {
      for (let run = 0; run < scale.crashRunsPerMode; run++) {
        const t0 = Date.now();
        const mark = await lastCallSeq(env.sandbox.url);
        const destination = await createDestination(env);
        const { result, killed } = await exportWithKills(destination, 'add', scale.killsPerRun);
        const expected = await expectedRows(env.db, env.tables, ['all']);
        await checkRun('add', result, killed, expected.rows, mark, t0);
        expect(result.progress.rowsSent).toBe(expected.usableKeys.size);
      }
      expect(figures.get('add')!.kills).toBe(scale.crashRunsPerMode * scale.killsPerRun);
    },
    scale.testTimeoutMs,
  );

  it(
    'mirror refresh after a change: completes with the new segment plus the kept old rows of changed members',
    async () => {
      for (let run = 0; run < scale.crashRunsPerMode; run++) {
        const destination = await createDestination(env, { config: { mode: 'mirror' } });
        const first = await exportWithKills(destination, 'mirror', 0);
        expect(first.result.status).toBe('completed');
        const before = await expectedRows(env.db, env.tables, ['all']);
        // A quarter of the segment changes, so the refresh has pages enough for a kill to land in.
        await changeSegmentShare(env.db, { ...env.tables, segment: 'all', share: 0.25, seed: seed + run });
        const after = await expectedRows(env.db, env.tables, ['all']);
        const t0 = Date.now();
        const mark = await lastCallSeq(env.sandbox.url);
        const refreshed = await exportWithKills(destination, 'mirror', scale.killsPerRun);
        // Changed members' old rows stay until they leave (design, "Modes"): expected on top of the segment.
        const expected = new Set(after.rows);
        for (const [key, row] of before.byKey)
          if (after.byKey.has(key) && after.byKey.get(key) !== row) expected.add(row);
        await checkRun('mirror refresh', refreshed.result, refreshed.killed, expected, mark, t0);
        expect(refreshed.result.progress.mode).toBe('mirror');
        expect(refreshed.result.progress.rowsRemoved).toBeGreaterThan(0);
      }
      expect(figures.get('mirror refresh')!.kills).toBe(scale.crashRunsPerMode * scale.killsPerRun);
    },
    scale.testTimeoutMs,
  );

  it(
    'replace of an audience with other members: completes with exactly the segment',
    async () => {
      for (let run = 0; run < scale.crashRunsPerMode; run++) {
        const t0 = Date.now();
        const destination = await createDestination(env, { existingAudience: true, config: { mode: 'replace' } });
        await addForeignMembers(env, destination.audienceId!, 200);
        const mark = await lastCallSeq(env.sandbox.url);
        const { result, killed } = await exportWithKills(destination, 'replace', scale.killsPerRun);
        const expected = await expectedRows(env.db, env.tables, ['all']);
        await checkRun('replace', result, killed, expected.rows, mark, t0);
        expect(result.progress.mode).toBe('replace');
      }
      expect(figures.get('replace')!.kills).toBe(scale.crashRunsPerMode * scale.killsPerRun);
    },
    scale.testTimeoutMs,
  );

  // When the worker dies while a replace's batch 1 is in flight, Meta may have started that session; a new session
  // would be refused ("only one replace at a time", 2650/1870145) until its 90-minute window ends. Batch 1 is
  // therefore retried in the same session, which restarts the replace (nothing else was sent in it yet).
  it(
    'replace: a worker killed while batch 1 is in flight (Meta started the session) still completes',
    async () => {
      const destination = await createDestination(env, { existingAudience: true, config: { mode: 'replace' } });
      await addForeignMembers(env, destination.audienceId!, 50);
      env.sandbox.faults.set({ latencyMs: null });
      const taskQueue = uniqueTaskQueue('crash-batch1');
      const workerEnv = env.childEnv({ TEMPORAL_TASK_QUEUE: taskQueue, EXPORT_PAGE_SIZE: String(PAGE_SIZE) });
      let worker = startWorkerProcess(workerEnv);
      await worker.ready;
      try {
        const { handle } = await startFaultExport(temporal.client, taskQueue, destination, ['all'], 'replace');
        await until(async () => (await handle.query(progressQuery)).phase === 'uploading', 60_000, 20);
        // Batch 1 reaches the sandbox and is applied there after 3 s; the worker dies before the answer.
        env.sandbox.faults.set({ latencyMs: 3_000 });
        await sleep(1_000);
        await worker.kill();
        env.sandbox.faults.set({ latencyMs: [150, 450] });
        worker = startWorkerProcess(workerEnv);
        await worker.ready;
        const result = await resultWithin(handle, 120_000);
        expect(result.status).toBe('completed');
        const expected = await expectedRows(env.db, env.tables, ['all']);
        expect(audienceDiff(expected.rows, (await sandboxMembers(env.sandbox, result.audienceId)).rows)).toEqual({
          lost: 0,
          extra: 0,
        });
      } finally {
        await worker.kill();
      }
    },
    scale.testTimeoutMs,
  );
});

async function nearTheEnd(handle: ExportHandle): Promise<boolean> {
  const p = await handle.query(progressQuery).catch(() => undefined);
  return !!p && p.pagesTotal > 0 && p.pagesDone >= p.pagesTotal - 2;
}

/** Members someone else put in the audience, which a replace must take out. */
async function addForeignMembers(env: ExportEnv, audienceId: string, count: number): Promise<void> {
  const data = Array.from({ length: count }, (_, i) =>
    CANONICAL_SCHEMA.map((k, j) => {
      if (j === 1) return i.toString(16).padStart(64, 'b');
      if (!k.startsWith('DATA')) return '';
      return k === 'DATA_PROCESSING_OPTIONS' ? [] : 0;
    }),
  );
  await env.graph.addUsers(
    {
      audienceId,
      payload: { schema: [...CANONICAL_SCHEMA], data },
      session: { sessionId: 1 + Math.floor(Math.random() * 2 ** 40), batchSeq: 1, lastBatch: true },
    },
    { token: env.sandbox.fixtures.systemUserToken },
  );
}
