import pg from 'pg';
import { cpuSeconds, postgresClusterCpuSeconds } from './proc-stats.js';

export interface CpuReading {
  worker: number;
  sandbox: number;
  /** Backends (and their parallel workers, autovacuum) connected to the benchmark's database. */
  postgres: number;
  /** The whole local cluster, shared with anyone else using it: an upper bound. */
  postgresCluster: number;
}

export interface CpuMeter {
  /** CPU seconds since the meter started. */
  read(): CpuReading;
  /** The worker was restarted (a CPU profile ends with its process): count the new one from now on. */
  setWorkerPid(pid: number): void;
  stop(): Promise<void>;
}

const SAMPLE_MS = 100;

/**
 * Measures the CPU of the product's processes apart: the worker, the sandbox, and the PostgreSQL backends serving
 * the benchmark's database. The cluster is shared (other engineers' tests), so its backends are found by database
 * in pg_stat_activity every 100 ms and each one's CPU is read from /proc; a backend that lives less than that
 * between two samples is missed (parallel workers of the big statements live for seconds). The sampler itself
 * is connected to another database, so it does not count.
 */
export async function startCpuMeter(options: {
  adminUrl: string;
  database: string;
  workerPid: number;
  sandboxPid: number;
}): Promise<CpuMeter> {
  const client = new pg.Client({ connectionString: options.adminUrl, application_name: 'ae-bench-cpu-meter' });
  await client.connect();
  const backends = new Map<number, { base: number; last: number }>();
  let workerPid = options.workerPid;
  let workerBase = cpuSeconds(workerPid);
  let workerDone = 0;
  const sandboxBase = cpuSeconds(options.sandboxPid);
  const clusterBase = postgresClusterCpuSeconds() ?? 0;

  const sample = async (first: boolean) => {
    const rows = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
      options.database,
    ]);
    for (const { pid } of rows.rows) {
      let now: number;
      try {
        now = cpuSeconds(pid);
      } catch {
        continue; // exited since the listing
      }
      const known = backends.get(pid);
      if (known) known.last = now;
      else backends.set(pid, { base: first ? now : 0, last: now });
    }
  };
  await sample(true);
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(() => sample(false)).catch(() => undefined);
  }, SAMPLE_MS);

  const safeCpu = (pid: number, fallback: number) => {
    try {
      return cpuSeconds(pid);
    } catch {
      return fallback;
    }
  };
  let lastWorker = workerBase;
  let lastSandbox = sandboxBase;
  return {
    read() {
      lastWorker = safeCpu(workerPid, lastWorker);
      lastSandbox = safeCpu(options.sandboxPid, lastSandbox);
      let postgres = 0;
      for (const b of backends.values()) postgres += b.last - b.base;
      return {
        worker: workerDone + lastWorker - workerBase,
        sandbox: lastSandbox - sandboxBase,
        postgres,
        postgresCluster: (postgresClusterCpuSeconds() ?? clusterBase) - clusterBase,
      };
    },
    setWorkerPid(pid) {
      workerDone += lastWorker - workerBase;
      workerPid = pid;
      workerBase = cpuSeconds(pid);
      lastWorker = workerBase;
    },
    async stop() {
      clearInterval(timer);
      await sampling;
      await client.end();
    },
  };
}

/** `b - a`, field by field. */
export function cpuDelta(a: CpuReading, b: CpuReading): CpuReading {
  return {
    worker: b.worker - a.worker,
    sandbox: b.sandbox - a.sandbox,
    postgres: b.postgres - a.postgres,
    postgresCluster: b.postgresCluster - a.postgresCluster,
  };
}
