/**
 * API load benchmark (issue #25): while an export runs, autocannon sends a bounded load of reads to the real API
 * (`audience-export api`, a child process) on loopback, as an operator's console and dashboards would. Prints the
 * sustained requests per second, the p99 latency and the error count (which must be 0), then checks that the
 * export finished exactly. Asserts nothing on time. See bench/README.md.
 */
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { demoSourceConfig, seedDemoProfiles } from '../src/demo/demo-seed.js';
import { openDb } from '../src/store/db.js';
import { createStore, migrate } from '../src/store/index.js';
import { ensureTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import type { ExportTarget } from '../src/temporal/start-export.js';
import { startSandboxChild, startWorkerChild, stopChild } from './lib/children.js';
import { BENCH_MAPPING } from './lib/expected-sample.js';
import { loadAverage } from './lib/proc-stats.js';
import { runExport } from './lib/run-export.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BENCH_DB = 'ae_bench_load';
const TASK_QUEUE = 'bench-load';
const USAGE =
  'Usage: npm run bench:load -- [--profiles 500000] [--seconds 30] [--connections 8] [--latency-ms 1000-2000] ' +
  '[--page-concurrency 4] [--out bench/results/load.json]';

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const say = (line: string) => console.log(`${line}  [load ${loadAverage()}]`);

function options() {
  const { values } = parseArgs({
    options: {
      profiles: { type: 'string', default: '500000' },
      seconds: { type: 'string', default: '30' },
      connections: { type: 'string', default: '8' },
      'latency-ms': { type: 'string', default: '1000-2000' },
      'page-concurrency': { type: 'string', default: '4' },
      out: { type: 'string', default: 'bench/results/load.json' },
    },
  });
  const int = (name: string, v: string, max: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number 1..${max}`);
    return n;
  };
  return {
    profiles: int('profiles', values.profiles, 10_000_000),
    // Bounded: a load test on a shared machine never runs for long nor opens many connections.
    seconds: int('seconds', values.seconds, 300),
    connections: int('connections', values.connections, 64),
    latency: values['latency-ms'],
    pageConcurrency: int('page-concurrency', values['page-concurrency'], 32),
    out: values.out,
  };
}

/** `audience-export api` as a child on a port of its choosing; resolves with its URL once it listens. */
async function startApiChild(env: NodeJS.ProcessEnv, logFile: string) {
  const child = spawn(process.execPath, [`${root}bin/audience-export.mjs`, 'api'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    let found: string | undefined;
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      const listening = found ? null : /API listening\b.*?(http:\/\/[^\s"),]+)/.exec(line);
      if (!listening) return;
      found = listening[1]!;
      resolve(found);
    });
    child.once('exit', (code) => {
      if (!found) reject(new Error(`the API exited with ${code} before listening; see ${logFile}`));
    });
  });
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`the API listens on ${url}, not loopback`);
  return { url, stop: () => stopChild(child) };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>;
  try {
    o = options();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const figures: Record<string, unknown> = { startedAt: new Date().toISOString(), options: o };
  const stops: Array<() => Promise<unknown>> = [];
  const interrupt = () => {
    void Promise.allSettled(stops.reverse().map((stop) => stop())).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    say(`load benchmark: ${fmt(o.profiles)} profiles, ${o.connections} connections for ${o.seconds} s`);
    const admin = await openDb({ url: ADMIN_URL, maxConnections: 1 });
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    await admin.close();
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${BENCH_DB}`;
    const db = await openDb({ url: dbUrl.toString(), maxConnections: 2, applicationName: 'ae-bench-load' });
    stops.push(() => db.close());
    await migrate(db);
    const t = performance.now();
    await seedDemoProfiles(db, { profiles: o.profiles, seed: 7 });
    say(`seeded ${fmt(o.profiles)} profiles in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const devServer = await startDevServer({ cliPath: ensureTemporalCli() });
    stops.push(() => devServer.stop());
    const sandbox = await startSandboxChild(o.latency);
    stops.push(() => sandbox.stop());
    const f = sandbox.fixtures;
    const encryptionKey = randomBytes(32).toString('base64');
    const viewerKey = randomBytes(24).toString('hex');
    const store = createStore(db, { encryptionKey: Buffer.from(encryptionKey, 'base64') });
    const destination = await store.destinations.create({
      displayName: `Load ${randomUUID().slice(0, 8)}`,
      facebookAppId: f.appId,
      adAccountId: f.adAccountId,
      audienceId: null,
      newAudienceName: `Load ${fmt(o.profiles)}`,
    });
    await store.credentials.save(destination.id, { kind: 'system_user', token: f.systemUserToken });
    await store.consents.record(destination.id, { givenBy: 'bench@example.test', statementVersion: '2026-01' });
    await store.exportConfigs.put(destination.id, {
      keyIdentifier: 'EMAIL',
      mapping: BENCH_MAPPING,
      segments: ['all'],
      mode: 'mirror',
      defaultCountry: 'US',
    });

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: dbUrl.toString(),
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
      ENCRYPTION_KEY: encryptionKey,
      PROFILE_SOURCE: JSON.stringify(demoSourceConfig()),
      EXPORT_PAGE_SIZE: '10000',
      EXPORT_PAGE_CONCURRENCY: String(o.pageConcurrency),
      LOG_LEVEL: 'warn',
    };
    mkdirSync('bench/results', { recursive: true });
    const stamp = Date.now();
    const worker = await startWorkerChild(env, [], `bench/results/load-worker-${stamp}.log`);
    stops.push(() => worker.stop());
    const api = await startApiChild(
      { ...env, API_HOST: '127.0.0.1', API_PORT: '0', API_KEYS: `bench:viewer:${viewerKey}`, LOG_LEVEL: 'info' },
      `bench/results/load-api-${stamp}.log`,
    );
    stops.push(() => api.stop());

    const connection = await Connection.connect({ address: devServer.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const target: ExportTarget = {
      destinationId: destination.id,
      destinationName: destination.displayName,
      adAccountId: destination.adAccountId!,
      audienceName: destination.newAudienceName ?? '?',
      segments: ['all'],
      mode: 'mirror',
    };

    const loadAtStart = loadAverage();
    const exportStarted = performance.now();
    const exporting = runExport(client, target, {
      taskQueue: TASK_QUEUE,
      pageConcurrency: o.pageConcurrency,
      trigger: 'manual',
      stallSeconds: 300,
    });
    // The run's record exists once validation ran; the load reads it with its live progress (a Temporal query).
    let runId: string | undefined;
    while (!runId) {
      await new Promise((r) => setTimeout(r, 100));
      runId = (await store.exportRuns.list({ destinationId: destination.id })).items[0]?.id;
    }
    const headers = { authorization: `Bearer ${viewerKey}` };
    const paths = [
      `/exports/${runId}`,
      `/exports?destinationId=${destination.id}`,
      '/destinations',
      `/destinations/${destination.id}`,
      `/destinations/${destination.id}/export-config`,
      '/health',
    ];
    const loadStarted = performance.now();
    const result = await autocannon({
      url: api.url,
      connections: o.connections,
      duration: o.seconds,
      timeout: 10,
      requests: paths.map((path) => ({ method: 'GET' as const, path, headers })),
    });
    const loadEnded = performance.now();
    const loadAtEnd = loadAverage();
    const exported = await exporting;
    const exportEnded = exportStarted + exported.seconds * 1000;

    const errors = result.errors + result.timeouts + result.non2xx;
    const overlapSeconds = Math.max(0, Math.min(loadEnded, exportEnded) - loadStarted) / 1000;
    const load = {
      seconds: (loadEnded - loadStarted) / 1000,
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      latencyMaxMs: result.latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      overlapSeconds,
      loadAverage: { start: loadAtStart, end: loadAtEnd },
    };
    say(
      `load: ${fmt(load.requests)} requests in ${load.seconds.toFixed(1)} s = ${fmt(load.requestsPerSecond, 1)} req/s ` +
        `sustained, p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, max ${load.latencyMaxMs} ms; ` +
        `errors ${errors} (${result.errors} connection, ${result.timeouts} timeouts, ${result.non2xx} non-2xx)`,
    );
    say(
      `load overlapped the export for ${overlapSeconds.toFixed(1)} of ${load.seconds.toFixed(1)} s` +
        (overlapSeconds < load.seconds ? ' (the export ended first: raise --profiles or --latency-ms)' : ''),
    );

    // Exact: every page done, and the audience holds exactly the distinct rows the run recorded as sent.
    const audience = await sandbox.check(exported.audienceId, []);
    const [distinct] = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM (SELECT DISTINCT cells FROM audience_snapshots WHERE audience_id = $1 AND state <> 'dropped') d`,
      [exported.audienceId],
    );
    const p = exported.progress;
    const exact =
      exported.status === 'completed' && p.pagesDone === p.pagesTotal && audience.total === Number(distinct?.n ?? -1);
    const exportFigures = {
      status: exported.status,
      seconds: exported.seconds,
      rowsSent: p.rowsSent,
      pages: `${p.pagesDone}/${p.pagesTotal}`,
      audienceSize: audience.total,
      expectedSize: Number(distinct?.n ?? 0),
      exact,
    };
    say(
      `export: ${exported.status} in ${exported.seconds.toFixed(1)} s, pages ${exportFigures.pages}, ` +
        `${fmt(p.rowsSent)} rows sent; audience ${fmt(audience.total)} rows, expected ${fmt(exportFigures.expectedSize)} ` +
        `(${exact ? 'exact' : 'NOT EXACT'})`,
    );
    Object.assign(figures, { load, export: exportFigures });
    return errors === 0 && exact ? 0 : 1;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(o!.out, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(
      `figures written to ${o!.out}; drop the database with: psql ${ADMIN_URL} -c 'DROP DATABASE ${BENCH_DB} WITH (FORCE)'`,
    );
  }
}

process.exitCode = await main();
