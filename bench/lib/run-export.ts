import type { Client } from '@temporalio/client';
import { startExport, type ExportTarget } from '../../src/temporal/start-export.js';
import type { ExportProgress, ExportResult } from '../../src/workflows/contracts.js';
import { progressQuery } from '../../src/workflows/messages.js';
import { cpuDelta, type CpuMeter, type CpuReading } from './cpu-meter.js';

export interface PhaseFigure {
  seconds: number;
  rowsPerSecond: number;
  /** CPU seconds each process spent from this phase's first sighting to the next one's. */
  cpu?: CpuReading;
}

export interface ExportRunFigures {
  runId: string;
  status: string;
  audienceId: string;
  seconds: number;
  /** Wall time of each phase seen, from its first sighting to the next phase's. */
  phases: Partial<Record<PhaseName, PhaseFigure>>;
  progress: ExportProgress;
  /** CPU seconds from start to result, when a meter was given. */
  cpu?: CpuReading;
}

/** The workflow's phases in order; 'waiting' is a pause inside removing or uploading, so it has no span. */
const PHASES = ['validating', 'freezing', 'planning', 'removing', 'uploading', 'finalising', 'done'] as const;
type PhaseName = (typeof PHASES)[number];

const POLL_MS = 250;

/** Rows each phase works through, for its rows/s. */
function rowsOf(phase: PhaseName, p: ExportProgress): number {
  if (phase === 'removing') return p.rowsRemoved ?? 0;
  if (phase === 'uploading') return p.rowsSent;
  return p.rowsTotal;
}

/**
 * Starts an export and follows it to its result, noting when each phase was first seen by polling the
 * `progress` query every 250 ms (so a phase shorter than that may show as 0 s or not at all).
 */
export async function runExport(
  client: Client,
  target: ExportTarget,
  options: {
    taskQueue: string;
    pageConcurrency: number;
    trigger: 'manual' | 'refresh';
    /** No phase or page change for this long means a stuck run (an activity retrying or a query hanging). */
    stallSeconds: number;
    onProgress?: (p: ExportProgress) => void;
    /** Splits each process's CPU by phase. */
    meter?: CpuMeter;
  },
): Promise<ExportRunFigures> {
  const t0 = performance.now();
  const cpuAtStart = options.meter?.read();
  const cpuAt = new Map<PhaseName, CpuReading>();
  const started = await startExport(client, target, {
    taskQueue: options.taskQueue,
    trigger: options.trigger,
    pageConcurrency: options.pageConcurrency,
    timings: { healthCheckDelaysMs: [] },
  });
  const handle = client.workflow.getHandle<(i: unknown) => Promise<ExportResult>>(started.workflowId);
  const firstSeen = new Map<PhaseName, number>();
  let done = false;
  let lastReport = 0;
  let lastChange = performance.now();
  let lastState = '';
  const poll = (async () => {
    while (!done) {
      try {
        const p = await handle.query(progressQuery);
        const now = performance.now();
        if (p.phase !== 'waiting' && !firstSeen.has(p.phase)) {
          firstSeen.set(p.phase, now);
          if (options.meter) cpuAt.set(p.phase, options.meter.read());
        }
        const state = `${p.phase}/${p.pagesDone}`;
        if (state !== lastState) {
          lastState = state;
          lastChange = now;
        }
        if (now - lastReport > 10_000) {
          lastReport = now;
          options.onProgress?.(p);
        }
      } catch {
        // not answerable yet (no workflow task run so far)
      }
      if (performance.now() - lastChange > options.stallSeconds * 1000) {
        done = true;
        await handle.terminate('benchmark: no progress').catch(() => undefined);
        throw new Error(`stalled in ${lastState} for ${options.stallSeconds} s (terminated); see the worker log`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  const result = await Promise.race([
    handle.result().finally(() => {
      done = true;
    }),
    poll.then(() => undefined),
  ]);
  await poll;
  if (!result) throw new Error('export ended without a result');
  const end = performance.now();
  const cpuAtEnd = options.meter?.read();
  const p = result.progress;
  const seen = PHASES.filter((phase) => firstSeen.has(phase));
  const phases: ExportRunFigures['phases'] = {};
  seen.forEach((phase, i) => {
    if (phase === 'done') return;
    const from = firstSeen.get(phase)!;
    const next = seen[i + 1];
    const seconds = Math.max(0, ((next ? firstSeen.get(next)! : end) - from) / 1000);
    const rows = rowsOf(phase, p);
    const cpuFrom = cpuAt.get(phase);
    const cpuTo = next ? cpuAt.get(next) : cpuAtEnd;
    phases[phase] = {
      seconds,
      rowsPerSecond: seconds > 0 ? rows / seconds : 0,
      ...(cpuFrom && cpuTo ? { cpu: cpuDelta(cpuFrom, cpuTo) } : {}),
    };
  });
  return {
    runId: result.runId,
    status: result.status,
    audienceId: result.audienceId,
    seconds: (end - t0) / 1000,
    phases,
    progress: p,
    ...(cpuAtStart && cpuAtEnd ? { cpu: cpuDelta(cpuAtStart, cpuAtEnd) } : {}),
  };
}
