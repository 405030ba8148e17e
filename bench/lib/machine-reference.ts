import { hash } from 'node:crypto';
import type { Db } from '../../src/store/db.js';

/**
 * How fast this machine is, by two fixed workloads that do not depend on the product's code: CPU seconds are only
 * comparable between machines (or between days on one shared machine) beside them. The worker's figures scale with
 * the first, PostgreSQL's with the second. Each is the median of three tries, on an otherwise idle machine.
 */
export interface MachineReference {
  /** CPU seconds of 1,000,000 SHA-256 hex digests of short strings, and a JSON text of every 10,000 of them. */
  nodeSeconds: number;
  /** Seconds of one PostgreSQL backend (no parallel workers) sorting 500,000 md5 texts. */
  postgresSeconds: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function nodeWorkload(): number {
  const started = process.cpuUsage();
  let rows: string[][] = [];
  let length = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const digest = hash('sha256', `person${i}@example.com`, 'hex');
    rows.push([digest, digest.slice(0, 16), '']);
    if (rows.length === 10_000) {
      length += JSON.stringify(rows).length;
      rows = [];
    }
  }
  if (length === 0) throw new Error('the reference workload did nothing');
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1e6;
}

async function postgresWorkload(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL max_parallel_workers_per_gather = 0');
    await tx.query('SET LOCAL jit = off');
    const started = performance.now();
    await tx.query(
      `SELECT md5(g::text) FROM generate_series(1, 500000) g ORDER BY md5(g::text) COLLATE "C" OFFSET 499999`,
    );
    return (performance.now() - started) / 1000;
  });
}

export async function measureMachineReference(db: Db): Promise<MachineReference> {
  const node: number[] = [];
  const postgres: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    node.push(nodeWorkload());
    postgres.push(await postgresWorkload(db));
  }
  return { nodeSeconds: median(node), postgresSeconds: median(postgres) };
}
