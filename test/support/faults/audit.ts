import type { Sandbox } from '../../../src/sandbox/server.js';

/** Rows the audience should hold but does not, and rows it holds that it should not. */
export function audienceDiff(expected: Set<string>, actual: Set<string>): { lost: number; extra: number } {
  let lost = 0;
  for (const row of expected) if (!actual.has(row)) lost += 1;
  let extra = 0;
  for (const row of actual) if (!expected.has(row)) extra += 1;
  return { lost, extra };
}

interface LoggedUpload {
  seq: number;
  sessionId?: string;
  batchSeq?: number;
  dataHash?: string;
  status: number;
}

/**
 * Batches (session id / batch number) that the sandbox saw with different rows on different sends, from its
 * request log after `since`: must be none, or Meta would hold a mix of two versions of a batch.
 */
export async function inconsistentBatches(
  sandbox: Sandbox,
  since = 0,
): Promise<{ batches: number; sends: number; inconsistent: string[] }> {
  const res = await fetch(`${sandbox.url}/__sandbox/requests?since=${since}&limit=1000000`);
  const { requests } = (await res.json()) as { requests: LoggedUpload[] };
  const byBatch = new Map<string, Set<string>>();
  let sends = 0;
  for (const r of requests) {
    if (r.batchSeq === undefined || !r.dataHash) continue;
    sends += 1;
    const key = `${r.sessionId}/${r.batchSeq}`;
    byBatch.set(key, (byBatch.get(key) ?? new Set()).add(r.dataHash));
  }
  const inconsistent = [...byBatch].filter(([, hashes]) => hashes.size > 1).map(([key]) => key);
  return { batches: byBatch.size, sends, inconsistent };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
