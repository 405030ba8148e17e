/**
 * End-to-end export benchmark (issue #15): seeds N demo profiles into PostgreSQL, starts a Temporal dev server,
 * the Graph API sandbox (child process, realistic latency) and one worker (child process), exports the `all`
 * segment with 8 mapped keys, changes 1% of it and runs a mirror refresh. Prints figures; asserts nothing.
 * See bench/README.md.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openDb, type Db } from '../src/store/db.js';
import { createStore, migrate } from '../src/store/index.js';
import { changeSegmentShare, demoSourceConfig, seedDemoProfiles } from '../src/demo/demo-seed.js';
import { previewExport } from '../src/api/services/preview.js';
import { createProfileSource } from '../src/sources/profile-source.js';
import { ensureTemporalCli } from '../src/temporal/cli-binary.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import type { ExportTarget } from '../src/temporal/start-export.js';
import type { ExportProgress } from '../src/workflows/contracts.js';
import { parseBenchArgs, USAGE, type BenchOptions } from './lib/args.js';
import { startSandboxChild, startWorkerChild, type SandboxChild, type WorkerChild } from './lib/children.js';
import { BENCH_MAPPING, sampleLeavers, sampleMembers } from './lib/expected-sample.js';
import { startCpuMeter, type CpuReading } from './lib/cpu-meter.js';
import { measureMachineReference } from './lib/machine-reference.js';
import { loadAverage, peakRssBytes } from './lib/proc-stats.js';
import { runExport, type ExportRunFigures } from './lib/run-export.js';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BENCH_DB = 'ae_bench';
const TASK_QUEUE = 'bench-export';
const SEED = 7;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const say = (line: string) => console.log(`${line}  [load ${loadAverage()}]`);

function benchDatabaseUrl(): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${BENCH_DB}`;
  return url.toString();
}

async function prepareDatabase(options: BenchOptions): Promise<{ db: Db; profiles: number; seedSeconds?: number }> {
  const admin = await openDb({ url: ADMIN_URL, maxConnections: 1 });
  try {
    const exists = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [BENCH_DB])).length > 0;
    if (options.skipSeed && !exists)
      throw new Error(`--skip-seed: database ${BENCH_DB} does not exist; run without it`);
    if (!options.skipSeed) {
      await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${BENCH_DB}`);
    }
  } finally {
    await admin.close();
  }
  const db = await openDb({ url: benchDatabaseUrl(), maxConnections: 4, applicationName: 'ae-bench' });
  await migrate(db);
  if (options.skipSeed) {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM demo_segment_members WHERE segment = 'all'`,
    );
    say(`reusing ${BENCH_DB}: ${fmt(Number(row?.n ?? 0))} members of 'all' (earlier refreshes included)`);
    return { db, profiles: Number(row?.n ?? 0) };
  }
  const t = performance.now();
  await seedDemoProfiles(db, {
    profiles: options.profiles,
    seed: SEED,
    onPhase: (phase, s) => say(`seed ${phase}: ${s.toFixed(1)} s`),
  });
  const seedSeconds = (performance.now() - t) / 1000;
  say(`seeded ${fmt(options.profiles)} profiles in ${seedSeconds.toFixed(1)} s`);
  return { db, profiles: options.profiles, seedSeconds };
}

const cpuText = (c: CpuReading) =>
  `CPU worker ${c.worker.toFixed(1)} + PostgreSQL ${c.postgres.toFixed(1)} = product ${(c.worker + c.postgres).toFixed(1)} s, ` +
  `sandbox ${c.sandbox.toFixed(1)} s`;

function describeRun(name: string, r: ExportRunFigures): void {
  const p = r.progress;
  say(`${name}: ${r.status} in ${r.seconds.toFixed(1)} s = ${fmt(p.rowsTotal / r.seconds)} rows/s`);
  for (const [phase, f] of Object.entries(r.phases)) {
    say(`  ${phase} ${f.seconds.toFixed(1)} s (${fmt(f.rowsPerSecond)} rows/s)${f.cpu ? `; ${cpuText(f.cpu)}` : ''}`);
  }
  if (r.cpu) say(`${name}: ${cpuText(r.cpu)}; PostgreSQL cluster ${r.cpu.postgresCluster.toFixed(1)} s (shared)`);
  say(
    `${name}: mode ${p.mode ?? '?'}, rows ${fmt(p.rowsTotal)}, sent ${fmt(p.rowsSent)}, removed ${fmt(p.rowsRemoved ?? 0)}, ` +
      `dropped ${fmt(p.rowsDropped)} ${JSON.stringify(p.droppedByReason)}, pages ${p.pagesDone}/${p.pagesTotal}, ` +
      `waited on throttling ${fmt(p.waitedMs)} ms`,
  );
}

const onProgress = (p: ExportProgress) =>
  say(`  ${p.phase}: pages ${p.pagesDone}/${p.pagesTotal}, rows sent ${fmt(p.rowsSent)}`);

interface SandboxLog {
  requests: Array<{ seq: number; method: string; path: string; status: number; rows?: number }>;
}

async function sandboxRequests(sandbox: SandboxChild, since: number): Promise<SandboxLog['requests']> {
  const res = await fetch(`${sandbox.url}/__sandbox/requests?since=${since}`);
  return ((await res.json()) as SandboxLog).requests;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const figures: Record<string, unknown> = { startedAt: new Date().toISOString(), options };
  const loads: Record<string, string> = { start: loadAverage() };
  say(
    `benchmark: ${fmt(options.profiles)} profiles, latency ${options.latency} ms, page concurrency ${options.pageConcurrency}, ` +
      `row-builder threads ${options.hashThreads ?? 'worker default'}`,
  );

  const stops: Array<() => Promise<unknown>> = [];
  // Interrupted: stop the children (dev server, sandbox, worker) rather than orphan them.
  const interrupt = () => {
    void Promise.allSettled(stops.reverse().map((stop) => stop())).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const { db, profiles, seedSeconds } = await prepareDatabase(options);
    stops.push(() => db.close());
    figures.profiles = profiles;
    figures.seedSeconds = seedSeconds;
    loads.afterSeed = loadAverage();
    const machine = await measureMachineReference(db);
    figures.machine = machine;
    say(
      `machine reference: Node ${machine.nodeSeconds.toFixed(2)} CPU-s, PostgreSQL ${machine.postgresSeconds.toFixed(2)} s ` +
        `(fixed workloads, bench/lib/machine-reference.ts; lower is faster)`,
    );

    const cliPath = ensureTemporalCli();
    const devServer: DevServer = await startDevServer({ cliPath });
    stops.push(() => devServer.stop());
    const sandbox = await startSandboxChild(options.latency);
    stops.push(() => sandbox.stop());
    const f = sandbox.fixtures;

    const encryptionKey = randomBytes(32);
    const store = createStore(db, { encryptionKey });
    const destination = await store.destinations.create({
      displayName: `Benchmark ${randomUUID().slice(0, 8)}`,
      facebookAppId: f.appId,
      adAccountId: f.adAccountId,
      audienceId: null,
      newAudienceName: `Benchmark ${fmt(profiles)}`,
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

    // 0. A preview of the whole segment, as the API's POST …/preview runs it (the service, without HTTP).
    const source = await createProfileSource(db, demoSourceConfig());
    loads.previewStart = loadAverage();
    const tp = performance.now();
    const previewed = await previewExport({ store, source }, destination.id, { segment: 'all' });
    const preview = {
      seconds: (performance.now() - tp) / 1000,
      segmentSize: previewed.segmentSize,
      sampled: previewed.sampled,
    };
    figures.preview = preview;
    say(
      `preview of 'all': ${preview.seconds.toFixed(2)} s (${fmt(preview.sampled)} of ${fmt(preview.segmentSize)} members examined, ` +
        `${fmt(previewed.exportable)} exportable)`,
    );

    const stamp = Date.now();
    const cpuProfDir = resolve('bench/results', `cpu-${stamp}`);
    mkdirSync('bench/results', { recursive: true });
    const workerLog = resolve('bench/results', `worker-${stamp}.log`);
    if (options.cpuProf) mkdirSync(cpuProfDir, { recursive: true });
    const workerEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: benchDatabaseUrl(),
      TEMPORAL_ADDRESS: devServer.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      FACEBOOK_GRAPH_URL: sandbox.url,
      FACEBOOK_DIALOG_URL: sandbox.url,
      FACEBOOK_APP_ID: f.appId,
      FACEBOOK_APP_SECRET: f.appSecret,
      ENCRYPTION_KEY: encryptionKey.toString('base64'),
      PROFILE_SOURCE: JSON.stringify(demoSourceConfig()),
      EXPORT_PAGE_SIZE: '10000',
      EXPORT_PAGE_CONCURRENCY: String(options.pageConcurrency),
      EXPORT_MAX_PROFILES: String(Math.max(10_000_000, profiles * 2)),
      WORKER_ACTIVITY_CONCURRENCY: String(Math.max(16, options.pageConcurrency * 2)),
      LOG_LEVEL: 'warn',
      ...(options.hashThreads === undefined ? {} : { WORKER_HASH_THREADS: String(options.hashThreads) }),
    };
    let worker: WorkerChild = await startWorkerChild(
      workerEnv,
      options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [],
      workerLog,
    );
    say(`worker log: ${workerLog}`);
    stops.push(() => worker.stop());
    let workerPid = worker.process.pid!;
    const meter = await startCpuMeter({
      adminUrl: ADMIN_URL,
      database: BENCH_DB,
      workerPid,
      sandboxPid: sandbox.process.pid!,
    });
    stops.push(() => meter.stop());

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

    // 1. The full export.
    loads.exportStart = loadAverage();
    const exported = await runExport(client, target, {
      taskQueue: TASK_QUEUE,
      pageConcurrency: options.pageConcurrency,
      trigger: 'manual',
      stallSeconds: options.stallSeconds,
      onProgress,
      meter,
    });
    loads.exportEnd = loadAverage();
    describeRun('export', exported);
    const exportCpu = exported.cpu!;
    say(
      `export: product CPU ${(((exportCpu.worker + exportCpu.postgres) / profiles) * 1e6).toFixed(1)} core-seconds per ` +
        `million profiles (worker + PostgreSQL)`,
    );

    const sample = await sampleMembers(db, options.sample, profiles, SEED);
    const afterExport = await sandbox.check(exported.audienceId, sample.rows);
    // Meta keeps one member per distinct row: profiles whose cells are all alike (duplicates in the source) count once.
    const [distinct] = await db.query<{ n: number }>(
      `SELECT count(*)::int8 AS n FROM (SELECT DISTINCT cells FROM audience_snapshots WHERE audience_id = $1 AND state <> 'dropped') d`,
      [exported.audienceId],
    );
    const distinctRowsSent = Number(distinct?.n ?? 0);
    const exportCheck = {
      audienceSize: afterExport.total,
      rowsSent: exported.progress.rowsSent,
      expectedSize: distinctRowsSent,
      countEqual: afterExport.total === distinctRowsSent,
      sampledProfiles: sample.profiles,
      sampledRows: sample.rows.length,
      sampledFound: afterExport.found.size,
    };
    say(
      `export audience: ${fmt(exportCheck.audienceSize)} rows, expected ${fmt(exportCheck.expectedSize)} distinct rows ` +
        `of ${fmt(exportCheck.rowsSent)} sent (${exportCheck.countEqual ? 'equal' : 'DIFFERENT'}); ` +
        `sample: ${exportCheck.sampledFound}/${exportCheck.sampledRows} expected rows present (${sample.profiles} profiles sampled)`,
    );

    let exportWorkerPeakRss = 0;
    if (options.cpuProf) {
      // The profile covers the export only: a clean exit writes it, and the refresh gets a fresh worker.
      exportWorkerPeakRss = peakRssBytes(workerPid);
      meter.read();
      await worker.stop();
      worker = await startWorkerChild(workerEnv, [], workerLog.replace(/\.log$/, '-refresh.log'));
      workerPid = worker.process.pid!;
      meter.setWorkerPid(workerPid);
    }

    // 2. Change 1% of the segment, then a mirror refresh.
    const t = performance.now();
    const change = await changeSegmentShare(db, { share: 0.01, seed: SEED });
    const changeSeconds = (performance.now() - t) / 1000;
    say(
      `changed 1% of 'all' in ${changeSeconds.toFixed(1)} s: ${fmt(change.left)} left, ${fmt(change.joined)} joined, ` +
        `${fmt(change.changedEmail)} changed e-mail`,
    );
    const seqBefore = Math.max(0, ...(await sandboxRequests(sandbox, 0)).map((r) => r.seq));
    let refresh: Record<string, unknown>;
    try {
      loads.refreshStart = loadAverage();
      const refreshed = await runExport(
        client,
        { ...target, audienceId: exported.audienceId },
        {
          taskQueue: TASK_QUEUE,
          pageConcurrency: options.pageConcurrency,
          trigger: 'refresh',
          stallSeconds: options.stallSeconds,
          onProgress,
          meter,
        },
      );
      loads.refreshEnd = loadAverage();
      describeRun('refresh', refreshed);
      const calls = (await sandboxRequests(sandbox, seqBefore)).filter((r) => /\/users(replace)?$/.test(r.path));
      const ok = calls.filter((r) => r.status === 200);
      const rowsAdded = ok.filter((r) => r.method !== 'DELETE').reduce((n, r) => n + (r.rows ?? 0), 0);
      const rowsRemoved = ok.filter((r) => r.method === 'DELETE').reduce((n, r) => n + (r.rows ?? 0), 0);
      const rowsSent = rowsAdded + rowsRemoved;
      const members = await sampleMembers(db, options.sample, profiles + change.created, SEED + 1);
      const leavers = await sampleLeavers(db, Math.min(500, options.sample));
      const present = await sandbox.check(exported.audienceId, [...members.rows, ...leavers.rows]);
      const foundMembers = [...present.found].filter((i) => i < members.rows.length).length;
      const foundLeavers = present.found.size - foundMembers;
      const changedRows = change.left + change.joined + change.changedEmail;
      refresh = {
        available: true,
        status: refreshed.status,
        seconds: refreshed.seconds,
        phases: refreshed.phases,
        progress: refreshed.progress,
        rowsSent,
        rowsAdded,
        rowsRemoved,
        calls: calls.length,
        changedProfiles: changedRows,
        // About the changed share means the mirror diff ran; about the whole segment means the run re-sent everything.
        mirrorDiffApplied: rowsSent < changedRows * 3,
        audienceSize: present.total,
        sampledMemberRows: members.rows.length,
        sampledMembersFound: foundMembers,
        sampledLeaverRows: leavers.rows.length,
        sampledLeaversStillPresent: foundLeavers,
        cpu: refreshed.cpu,
      };
      say(
        `refresh: ${fmt(rowsSent)} rows sent (${fmt(rowsAdded)} added, ${fmt(rowsRemoved)} removed) in ${calls.length} calls for ${fmt(changedRows)} changed profiles ` +
          `(${refresh.mirrorDiffApplied ? 'mirror diff applied' : 'NO mirror diff: the whole segment was re-sent'}); ` +
          `audience ${fmt(present.total)} rows; sample: ${foundMembers}/${members.rows.length} members present, ` +
          `${foundLeavers}/${leavers.rows.length} leavers still present`,
      );
    } catch (err) {
      const reason = (err as Error).message;
      refresh = { available: false, reason };
      say(
        `refresh: not available (${reason}); if mirror mode is not in this checkout yet (git log), re-run once it is`,
      );
    }

    const workerPeakRssBytes = Math.max(exportWorkerPeakRss, peakRssBytes(workerPid));
    const total = meter.read();
    say(
      `worker: peak RSS ${fmt(workerPeakRssBytes / 2 ** 20)} MiB, CPU ${total.worker.toFixed(1)} s in all; ` +
        `sandbox CPU ${total.sandbox.toFixed(1)} s in all (membership checks included)`,
    );

    Object.assign(figures, {
      exportSeconds: exported.seconds,
      exportStatus: exported.status,
      exportPhases: exported.phases,
      exportProgress: exported.progress,
      waitedMs: exported.progress.waitedMs,
      exportCheck,
      change,
      changeSeconds,
      refresh,
      refreshSeconds: refresh.available ? refresh.seconds : null,
      refreshRowsSent: refresh.available ? refresh.rowsSent : null,
      workerPeakRssBytes,
      exportCpu,
      totalCpu: total,
      loadAverage: loads,
    });

    await worker.stop();
    if (options.cpuProf) {
      const profilesWritten = readdirSync(cpuProfDir).filter((n) => n.endsWith('.cpuprofile'));
      figures.cpuProfiles = profilesWritten.map((n) => join(cpuProfDir, n));
      say(`worker CPU profiles: ${profilesWritten.map((n) => join(cpuProfDir, n)).join(', ') || 'none written'}`);
      say(`summarise: npx tsx bench/lib/summarize-cpuprofile.ts <file> --top 10`);
    }
    return 0;
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(`cleanup: ${String(e)}`));
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`figures written to ${options.out}`);
    console.log(
      `database ${BENCH_DB} kept for --skip-seed; drop it with: psql ${ADMIN_URL} -c 'DROP DATABASE ${BENCH_DB} WITH (FORCE)'`,
    );
  }
}

process.exitCode = await main();
