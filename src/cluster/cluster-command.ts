import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Config } from '../config.js';
import { seedDemoProfiles } from '../demo/demo-seed.js';
import { freePort, portIsFree } from '../ports.js';
import { openDb } from '../store/index.js';
import { ensureTemporalCli } from '../temporal/cli-binary.js';
import { connectClient } from '../temporal/connection.js';
import { ensureTemporalServer } from '../temporal/server-binary.js';
import {
  apiUrl,
  appEnv,
  newPlan,
  rolesEnv,
  schemaEnv,
  serverEnv,
  setupEnv,
  temporalAddress,
  databaseUrl,
  profilesDatabase,
  type ClusterPlan,
  type ProfilesDatabase,
} from './cluster-plan.js';
import { isRunning, logOffset, logSince, logTail, startDetached, stopProcess } from './detached-process.js';

export const CLUSTER_USAGE = `Usage: audience-export cluster up|down|status [options]

The production topology on this machine, without Docker: PostgreSQL roles and databases
(deploy/postgres-roles.sh), Temporal's two databases and schemas by its sql tool (deploy/temporal-schema.sh),
the Temporal Server on PostgreSQL (deploy/temporal-server.sh), the namespace and our search attributes
(deploy/temporal-setup.sh), then 'audience-export api' and workers, each its own process. docker-compose.yml
runs the same scripts. 'up' returns once everything answers and leaves it running; run it again to start
whatever has stopped. The api and workers get this environment (ENCRYPTION_KEY, API_KEYS, FACEBOOK_*,
PROFILE_SOURCE, TEMPORAL_TLS_*...) with DATABASE_URL (our tables' owner role), SOURCE_DATABASE_URL (the
read-only role) and TEMPORAL_ADDRESS set. TLS: set TEMPORAL_SERVER_TLS_CERT/_KEY (and _CLIENT_CA for mutual TLS,
_CA and _WORKER_CERT/_KEY for the server's own workers; deploy/temporal/production.yaml) with the clients'
TEMPORAL_TLS_* variables.

Options:
  --dir DIR            state (cluster.json, 0600) and logs/  (default DATA_DIR/cluster)
  --admin-url URL      a PostgreSQL role that may create roles and databases
                       (default postgres://postgres@127.0.0.1:5432/postgres)
  --prefix NAME        start of every database and role name (default none: temporal, temporal_visibility,
                       audience_export, profiles; roles temporal, audience_export, audience_export_reader)
  --temporal-port N    Temporal frontend port on 127.0.0.1 (default 7233; 0 = any free port)
  --api-port N         API port on 127.0.0.1 (default API_PORT; 0 = any free port)
  --workers N          worker processes (default 2)
  --profiles-database separate|ours
                       where the profiles are: 'separate' (default), the profiles database, read by the
                       read-only role through SOURCE_DATABASE_URL; 'ours', our database, read by its owner
  --demo-profiles N    load N demo profiles where the profiles are (as the admin role into the profiles
                       database, as the owner into ours) when the demo tables are missing
  --drop               with 'down': drop the databases and roles as well

Settings are kept in DIR/cluster.json from the first 'up' on; the options then only apply after 'down --drop'.`;

const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url));
const CLI_ENTRY = fileURLToPath(new URL('../../bin/audience-export.mjs', import.meta.url));
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** What a pid's command line must hold to be ours (see detached-process.ts). */
const API_MARKER = 'audience-export.mjs\0api';
const WORKER_MARKER = 'audience-export.mjs\0worker';
/** The server's command line (and the script's before its exec) names the deploy folder. */
const SERVER_MARKER = DEPLOY_DIR.replace(/\/$/, '');

interface Options {
  dir: string;
  adminUrl: string;
  prefix: string;
  temporalPort: number;
  apiPort: number;
  workers: number;
  profiles: ProfilesDatabase;
  demoProfiles?: number;
  drop: boolean;
}

const log = (line: string) => console.error(`[cluster] ${line}`);

export async function runClusterCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      'admin-url': { type: 'string' },
      prefix: { type: 'string' },
      'temporal-port': { type: 'string' },
      'api-port': { type: 'string' },
      workers: { type: 'string' },
      'demo-profiles': { type: 'string' },
      'profiles-database': { type: 'string' },
      drop: { type: 'boolean' },
    },
  });
  const action = positionals[0];
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < min || (name.endsWith('port') && n > 65_535))
      throw new UsageError(`--${name} ${value}: not a number ≥ ${min}`);
    return n;
  };
  let options: Options;
  try {
    if (action !== 'up' && action !== 'down' && action !== 'status') throw new UsageError('say up, down or status');
    const profiles = values['profiles-database'] ?? 'separate';
    if (profiles !== 'separate' && profiles !== 'ours') {
      throw new UsageError(`--profiles-database ${profiles}: say separate or ours`);
    }
    options = {
      dir: resolve(values.dir ?? join(config.database.dataDir, 'cluster')),
      adminUrl: values['admin-url'] ?? DEFAULT_ADMIN_URL,
      prefix: values.prefix ?? '',
      temporalPort: number('temporal-port', values['temporal-port'], 7233, 0),
      apiPort: number('api-port', values['api-port'], config.api.port, 0),
      workers: number('workers', values.workers, 2, 1),
      profiles,
      demoProfiles:
        values['demo-profiles'] === undefined ? undefined : number('demo-profiles', values['demo-profiles'], 0, 1),
      drop: values.drop ?? false,
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${CLUSTER_USAGE}`);
    return 2;
  }
  try {
    if (action === 'up') return await up(options, config);
    if (action === 'down') return await down(options);
    return status(options);
  } catch (err) {
    log(`failed: ${(err as Error).message}`);
    return 1;
  }
}

class UsageError extends Error {}

const statePath = (dir: string) => join(dir, 'cluster.json');

function loadPlan(dir: string): ClusterPlan | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), 'utf8')) as ClusterPlan;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** It holds the roles' passwords: readable by this user only. */
function savePlan(dir: string, plan: ClusterPlan): void {
  writeFileSync(statePath(dir), `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
  chmodSync(statePath(dir), 0o600);
}

async function planFor(o: Options): Promise<ClusterPlan> {
  const existing = loadPlan(o.dir);
  if (existing) return existing;
  const admin = new URL(o.adminUrl);
  const free = () => freePort();
  const taken = new Set<number>();
  // Temporal keeps membership ports in a smallint column: the kernel's ephemeral ports (32768 up) do not fit.
  const smallFree = async () => {
    for (;;) {
      const port = 10_000 + Math.floor(Math.random() * 22_000);
      if (!taken.has(port) && (await portIsFree(port))) return taken.add(port) && port;
    }
  };
  const plan = newPlan({
    prefix: o.prefix,
    namespace: 'default',
    postgres: { host: admin.hostname || '127.0.0.1', port: Number(admin.port || 5432) },
    workers: o.workers,
    profiles: o.profiles,
    ports: {
      frontend: o.temporalPort || (await free()),
      frontendHttp: await free(),
      frontendMembership: await smallFree(),
      history: await free(),
      historyMembership: await smallFree(),
      matching: await free(),
      matchingMembership: await smallFree(),
      worker: await free(),
      workerMembership: await smallFree(),
      api: o.apiPort || (await free()),
    },
  });
  return plan;
}

/** psql's variables for the admin role (deploy/postgres-roles.sh connects with them). */
function adminEnv(adminUrl: string): Record<string, string> {
  const u = new URL(adminUrl);
  return {
    PGHOST: u.hostname || '127.0.0.1',
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username || 'postgres'),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
    PGDATABASE: u.pathname.slice(1) || 'postgres',
  };
}

/** Runs a deploy/ script to its end, its output into the setup log; fails with that output's tail. */
async function runScript(name: string, env: Record<string, string>, logFile: string): Promise<void> {
  const offset = logOffset(logFile);
  const out = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn('sh', [join(DEPLOY_DIR, name)], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', out, out],
    });
    const code = await new Promise<number | null>((done, fail) => {
      child.once('error', fail);
      child.once('exit', (c) => done(c));
    });
    if (code !== 0) throw new Error(`deploy/${name} exited with ${code}:\n${logTail(logFile, offset)}`);
  } finally {
    closeSync(out);
  }
}

/** The caller's environment, as a plain record to extend. */
function inherited(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

async function up(o: Options, config: Config): Promise<number> {
  mkdirSync(join(o.dir, 'logs'), { recursive: true, mode: 0o700 });
  chmodSync(o.dir, 0o700);
  const plan = await planFor(o);
  savePlan(o.dir, plan);
  const logs = (name: string) => join(o.dir, 'logs', `${name}.log`);
  const binaries = ensureTemporalServer((l) => log(l));
  const cli = ensureTemporalCli((l) => log(l));

  log(`PostgreSQL roles and databases on ${plan.postgres.host}:${plan.postgres.port} (deploy/postgres-roles.sh)`);
  await runScript('postgres-roles.sh', { ...adminEnv(o.adminUrl), ...rolesEnv(plan) }, logs('setup'));
  log(`Temporal databases ${plan.databases.temporal}, ${plan.databases.visibility} (deploy/temporal-schema.sh)`);
  await runScript('temporal-schema.sh', schemaEnv(plan, binaries.sql), logs('setup'));

  const address = temporalAddress(plan);
  if (!isRunning(plan.pids.server, SERVER_MARKER)) {
    const offset = logOffset(logs('temporal-server'));
    plan.pids.server = startDetached('sh', [join(DEPLOY_DIR, 'temporal-server.sh')], {
      env: { TEMPORAL_SERVER_LOG_LEVEL: 'warn', ...inherited(), ...serverEnv(plan, binaries.server) },
      logFile: logs('temporal-server'),
    });
    savePlan(o.dir, plan);
    await waitForTemporal(plan, config, () => {
      if (!isRunning(plan.pids.server, SERVER_MARKER))
        throw new Error(`the Temporal server exited:\n${logTail(logs('temporal-server'), offset)}`);
    });
  }
  log(`Temporal server at ${address} (pid ${plan.pids.server})`);
  await runScript('temporal-setup.sh', { ...inherited(), ...setupEnv(plan, cli) }, logs('setup'));
  log(`namespace ${plan.namespace} has our search attributes (deploy/temporal-setup.sh)`);

  if (o.demoProfiles) await seedDemo(plan, o.adminUrl, o.demoProfiles);

  const env = { ...inherited(), ...appEnv(plan) };
  const starting: Promise<void>[] = [];
  if (!isRunning(plan.pids.api, API_MARKER)) {
    const offset = logOffset(logs('api'));
    plan.pids.api = startDetached(process.execPath, [CLI_ENTRY, 'api'], { env, logFile: logs('api') });
    starting.push(waitForApi(plan, () => exited(plan.pids.api, API_MARKER, 'the API', logs('api'), offset)));
  }
  for (let i = 0; i < plan.workers; i++) {
    if (isRunning(plan.pids.workers[i], WORKER_MARKER)) continue;
    const file = logs(`worker-${i + 1}`);
    const offset = logOffset(file);
    const pid = startDetached(process.execPath, [CLI_ENTRY, 'worker'], { env, logFile: file });
    plan.pids.workers[i] = pid;
    starting.push(
      waitFor(
        () => logSince(file, offset).includes('[worker] polling'),
        () => exited(pid, WORKER_MARKER, `worker ${i + 1}`, file, offset),
        240_000,
        `worker ${i + 1} did not poll its task queue in time:\n${logTail(file, offset)}`,
      ),
    );
  }
  savePlan(o.dir, plan);
  await Promise.all(starting);
  log(`API at ${apiUrl(plan)} (pid ${plan.pids.api})`);
  log(`${plan.workers} workers (pids ${plan.pids.workers.join(', ')}), logs in ${join(o.dir, 'logs')}`);
  log(`stop with: audience-export cluster down --dir ${o.dir}`);
  return 0;
}

/** Demo profiles where the profiles are read, loaded by the role that owns them there (never the reader). */
async function seedDemo(plan: ClusterPlan, adminUrl: string, profiles: number): Promise<void> {
  const { database, loader } = profilesDatabase(plan);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const db = await openDb({
    url: loader === 'admin' ? url.toString() : databaseUrl(plan, 'app', database),
    maxConnections: 2,
  });
  try {
    const [{ present } = { present: false }] = await db.query<{ present: boolean }>(
      "SELECT to_regclass('demo_profiles') IS NOT NULL AS present",
    );
    if (present) return;
    log(`loading ${profiles.toLocaleString('en-US')} demo profiles into ${database}`);
    await seedDemoProfiles(db, { profiles });
  } finally {
    await db.close();
  }
}

function exited(pid: number | undefined, marker: string, what: string, file: string, offset: number): void {
  if (!isRunning(pid, marker)) throw new Error(`${what} exited:\n${logTail(file, offset)}`);
}

async function waitFor(
  ready: () => boolean | Promise<boolean>,
  check: () => void,
  timeoutMs: number,
  message: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    check();
    if (Date.now() > deadline) throw new Error(message);
    await sleep(250);
  }
}

/** The frontend answers (through the same TEMPORAL_TLS_* settings the api and workers use). */
async function waitForTemporal(plan: ClusterPlan, config: Config, check: () => void): Promise<void> {
  const settings = {
    address: temporalAddress(plan),
    namespace: plan.namespace,
    connection: config.temporal.connection,
  };
  let last = '';
  await waitFor(
    async () => {
      try {
        const t = await connectClient(settings, { connectTimeout: 1_000 });
        try {
          await t.client.workflowService.getSystemInfo({});
          return true;
        } finally {
          await t.close();
        }
      } catch (err) {
        last = (err as Error).message;
        return false;
      }
    },
    check,
    120_000,
    `the Temporal server did not answer at ${temporalAddress(plan)}: ${last}`,
  );
}

async function waitForApi(plan: ClusterPlan, check: () => void): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(`${apiUrl(plan)}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
      return res?.status === 200;
    },
    check,
    120_000,
    `the API did not become healthy at ${apiUrl(plan)}/health`,
  );
}

async function down(o: Options): Promise<number> {
  const plan = loadPlan(o.dir);
  if (!plan) {
    log(`no cluster in ${o.dir}`);
    return 0;
  }
  // Workers drain (their in-flight pages settle) before the server they report to stops.
  await Promise.all([
    stopProcess(plan.pids.api, API_MARKER, 15_000),
    ...plan.pids.workers.map((pid) => stopProcess(pid, WORKER_MARKER, 45_000)),
  ]);
  await stopProcess(plan.pids.server, SERVER_MARKER, 20_000);
  plan.pids = { workers: [] };
  savePlan(o.dir, plan);
  log('api, workers and the Temporal server stopped');
  if (o.drop) {
    await dropAll(plan, o.adminUrl);
    rmSync(statePath(o.dir), { force: true });
    log(`dropped databases ${Object.values(plan.databases).join(', ')} and their roles`);
  }
  return 0;
}

async function dropAll(plan: ClusterPlan, adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const db of Object.values(plan.databases)) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db)} WITH (FORCE)`);
    }
    for (const role of Object.values(plan.roles)) {
      await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role.name)}`);
    }
  } finally {
    await admin.end();
  }
}

function status(o: Options): number {
  const plan = loadPlan(o.dir);
  if (!plan) {
    console.log(`no cluster in ${o.dir}`);
    return 1;
  }
  const rows: [string, boolean][] = [
    [`temporal server ${temporalAddress(plan)}`, isRunning(plan.pids.server, SERVER_MARKER)],
    [`api ${apiUrl(plan)}`, isRunning(plan.pids.api, API_MARKER)],
    ...plan.pids.workers.map((pid, i): [string, boolean] => [`worker ${i + 1}`, isRunning(pid, WORKER_MARKER)]),
  ];
  for (const [what, running] of rows) console.log(`${running ? 'running' : 'stopped'}  ${what}`);
  return rows.every(([, r]) => r) ? 0 : 1;
}
