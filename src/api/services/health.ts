import type { ApiDeps } from '../deps.js';

export type CheckResult = 'ok' | 'down';
const TIMEOUT_MS = 3_000;

async function probe(fn: () => Promise<unknown>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), timeout]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Probes the database and Temporal concurrently, each bounded so a hung dependency cannot hang the probe. */
export async function checkHealth(
  deps: Pick<ApiDeps, 'store' | 'temporalClient'>,
): Promise<{ database: CheckResult; temporal: CheckResult }> {
  const [database, temporal] = await Promise.all([
    probe(() => deps.store.ping()),
    probe(() => deps.temporalClient.workflowService.getSystemInfo({})),
  ]);
  return { database, temporal };
}
