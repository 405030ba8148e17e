import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../../src/temporal/cli-binary.js';
import { startDevServer } from '../../src/temporal/dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    workflowBundlePath: string;
    databaseUrl: string;
  }
}

const ADMIN_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Creates a database of its own for this test run, so concurrent runs never collide. */
async function createRunDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ae_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${ADMIN_DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}: ${(err as Error).message}. ` +
        'Start it (pg_ctlcluster <version> main start) or set DATABASE_URL.',
    );
  }
  await dropAbandonedDatabases(admin);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Drops databases (and test/cluster's roles) of earlier test runs whose process is gone (killed runs never reach their teardown). */
async function dropAbandonedDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname ~ '^ae_test_[0-9]+_[0-9a-z]+$' OR datname ~ '^ae_cluster_[0-9]+_'",
  );
  for (const { datname } of rows) {
    const pid = Number(datname.split('_')[2]);
    if (isAlive(pid)) continue;
    await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
  // test/cluster's roles (ae_cluster_<pid>_...), once the databases they own are gone.
  const roles = await admin.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles WHERE rolname ~ '^ae_cluster_[0-9]+_'",
  );
  for (const { rolname } of roles.rows) {
    if (isAlive(Number(rolname.split('_')[2]))) continue;
    await admin.query(`DROP ROLE IF EXISTS ${rolname}`).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default async function setup(project: TestProject) {
  const cliPath = ensureTemporalCli();
  const [server, database, bundleDir] = await Promise.all([
    startDevServer({ cliPath, namespace: 'default' }),
    createRunDatabase(),
    mkdtemp(join(tmpdir(), 'audience-export-wf-')),
  ]);
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url)),
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (m) => console.error(m),
    },
  });
  const bundlePath = join(bundleDir, 'workflow-bundle.js');
  await writeFile(bundlePath, code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', 'default');
  project.provide('workflowBundlePath', bundlePath);
  project.provide('databaseUrl', database.url);

  return async () => {
    await server.stop();
    await database.drop();
    await rm(bundleDir, { recursive: true, force: true });
  };
}
