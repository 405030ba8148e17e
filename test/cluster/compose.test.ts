import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { appEnv, newPlan } from '../../src/cluster/cluster-plan.js';
import { TEMPORAL_SERVER_VERSION } from '../../src/temporal/server-binary.js';

const compose = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');

/** The text of one service of docker-compose.yml (up to the next service). */
function service(name: string): string {
  const m = new RegExp(`^  ${name}:\\n((?:    .*\\n|\\n)*)`, 'm').exec(compose);
  if (!m) throw new Error(`no service ${name} in docker-compose.yml`);
  return m[1]!;
}

describe('docker-compose.yml runs the topology test/cluster tests', () => {
  it('its jobs and server run the deploy/ scripts that `audience-export cluster up` runs', () => {
    expect(service('postgres-setup')).toContain("['sh', '/deploy/postgres-roles.sh']");
    expect(service('temporal-schema')).toContain("['sh', '/deploy/temporal-schema.sh']");
    expect(service('temporal')).toContain("['sh', '/deploy/temporal-server.sh']");
    expect(service('temporal-setup')).toContain("['sh', '/deploy/temporal-setup.sh']");
  });

  it('uses the Temporal Server version we build and test', () => {
    const v = TEMPORAL_SERVER_VERSION.slice(1);
    expect(service('temporal')).toContain(`image: temporalio/server:${v}`);
    expect(service('temporal-schema')).toContain(`image: temporalio/admin-tools:${v}`);
    expect(service('temporal-setup')).toContain(`image: temporalio/admin-tools:${v}`);
  });

  it('publishes Temporal and its UI on 127.0.0.1 only', () => {
    expect(service('temporal')).toMatch(/ports:\n\s+- '127\.0\.0\.1:7233:7233'\n/);
    expect(service('temporal-ui')).toMatch(/ports:\n\s+- '127\.0\.0\.1:8233:8080'\n/);
    const published = [...compose.matchAll(/^\s+- '([^']*:\d+:\d+|\d+:\d+)'$/gm)].map((m) => m[1]);
    expect(published.filter((p) => !p!.startsWith('127.0.0.1:'))).toEqual(['8080:8080']);
  });

  it('the api and workers use our tables’ owner role and Temporal its own, never the superuser', () => {
    expect(compose).toMatch(
      /DATABASE_URL: postgres:\/\/audience_export:\$\{APP_DB_PASSWORD[^}]*\}@postgresql:5432\/audience_export\n/,
    );
    expect(service('temporal')).toContain('TEMPORAL_SERVER_DB_USER: temporal\n');
    expect(service('temporal-schema')).toContain('SQL_USER: temporal\n');
    expect(compose.match(/postgres:\/\/postgres/g)).toBeNull();
  });

  it('the api and workers read the profiles as `cluster up` has them read: the reader role on the profiles database', () => {
    const m =
      /\n {4}SOURCE_DATABASE_URL: postgres:\/\/([a-z_]+):\$\{SOURCE_DB_PASSWORD[^}]*\}@postgresql:5432\/([a-z_]+)\n/.exec(
        compose,
      );
    expect(m).not.toBeNull();
    const plan = newPlan({
      prefix: '',
      namespace: 'default',
      postgres: { host: 'postgresql', port: 5432 },
      workers: 2,
      profiles: 'separate',
      ports: { frontend: 7233, frontendHttp: 0, frontendMembership: 0, history: 0, historyMembership: 0,
        matching: 0, matchingMembership: 0, worker: 0, workerMembership: 0, api: 8080 }, // prettier-ignore
    });
    const url = new URL(appEnv(plan).SOURCE_DATABASE_URL!);
    expect([m![1], m![2]]).toEqual([url.username, url.pathname.slice(1)]);
    expect([m![1], m![2]]).toEqual(['audience_export_reader', 'profiles']);
    // Passed once, not also as an empty pass-through that would override it.
    expect(compose.match(/SOURCE_DATABASE_URL:/g)).toHaveLength(1);
  });
});
