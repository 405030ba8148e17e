/**
 * Prints figures for the client's upload path (no pass/fail): request-body building for a full 10,000-row batch,
 * and end-to-end batches against the sandbox over real HTTP. Run: `npx tsx bench/upload-throughput.ts`.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_FACEBOOK_API_VERSION } from '../src/config.js';
import { createGraphClient } from '../src/facebook/graph-client.js';
import { usersRequestBody, type Cell } from '../src/facebook/responses.js';
import { startSandbox } from '../src/sandbox/server.js';

const SCHEMA = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'DOBY',
  'DOBM',
  'DOBD',
  'LN',
  'FN',
  'FI',
  'GEN',
  'CT',
  'ST',
  'ZIP',
  'COUNTRY',
  'MADID',
];
const BATCH = 10_000;
const BATCHES = Number(process.env.BATCHES ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
function batch(b: number): Cell[][] {
  return Array.from({ length: BATCH }, (_, i) => {
    const n = b * BATCH + i;
    return SCHEMA.map((key, k) => (key === 'EXTERN_ID' ? `id-${n}` : key === 'MADID' ? '' : sha(`${key}:${n}:${k}`)));
  });
}

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const data = batch(0);
  let bytes = 0;
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) bytes = JSON.stringify(usersRequestBody({ schema: SCHEMA, data })).length;
  const perBody = (performance.now() - t0) / 20;
  console.log(
    `body for ${BATCH} rows × ${SCHEMA.length} keys: ${mb(bytes)} MiB, built and serialised in ${perBody.toFixed(1)} ms`,
  );

  const sb = await startSandbox({ port: 0 });
  const fb = createGraphClient({
    graphUrl: sb.url,
    dialogUrl: sb.url,
    apiVersion: DEFAULT_FACEBOOK_API_VERSION,
    appId: sb.fixtures.appId,
    appSecret: sb.fixtures.appSecret,
  });
  const token = sb.fixtures.systemUserToken;
  try {
    const batches = Array.from({ length: BATCHES }, (_, b) => batch(b));
    for (const concurrency of [1, CONCURRENCY]) {
      const { id } = await fb.createAudience(sb.fixtures.adAccountId, { name: `bench c${concurrency}` }, { token });
      const sessionId = fb.newSessionId();
      // Batch 1 first (it starts the session), then the rest concurrently, as the export workflow does.
      const send = (b: number) =>
        fb.addUsers(
          {
            audienceId: id,
            payload: { schema: SCHEMA, data: batches[b]! },
            session: { sessionId, batchSeq: b + 1, lastBatch: false },
          },
          { token },
        );
      const start = performance.now();
      await send(0);
      let next = 1;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < BATCHES) await send(next++);
        }),
      );
      const s = (performance.now() - start) / 1000;
      const rows = BATCHES * BATCH;
      console.log(
        `sandbox end to end, concurrency ${concurrency}: ${rows} rows in ${s.toFixed(2)} s = ${Math.round(rows / s)} rows/s (${((s / BATCHES) * 1000).toFixed(0)} ms per batch)`,
      );
    }
  } finally {
    await fb.close();
    await sb.close();
  }
}

await main();
