import { randomBytes } from 'node:crypto';

/**
 * What `audience-export cluster up` stands up, decided once and kept in DIR/cluster.json so that `up` again (after
 * a crash or a reboot) restarts the same processes on the same databases and ports, and `down` finds them.
 */
export interface ClusterPlan {
  version: 1;
  /** Prepended to every database and role name (empty: the names docker-compose.yml uses). */
  prefix: string;
  namespace: string;
  postgres: { host: string; port: number };
  databases: { temporal: string; visibility: string; app: string; source: string };
  /** Passwords are random; with trust authentication (a developer's machine) PostgreSQL ignores them. */
  roles: Record<'temporal' | 'app' | 'source', { name: string; password: string }>;
  ports: ClusterPorts;
  workers: number;
  /**
   * Where the profiles are read: `separate`, their own database read by the read-only role (SOURCE_DATABASE_URL);
   * `ours`, our database, read by its owner role (SOURCE_DATABASE_URL unset).
   */
  profiles: ProfilesDatabase;
  /** Process ids of what runs now (absent or dead: `up` starts it). */
  pids: { server?: number; api?: number; workers: (number | undefined)[] };
}

export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  api: number;
}

export type ProfilesDatabase = 'separate' | 'ours';

export interface PlanOptions {
  prefix: string;
  namespace: string;
  postgres: { host: string; port: number };
  workers: number;
  profiles: ProfilesDatabase;
  ports: ClusterPorts;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export function newPlan(o: PlanOptions): ClusterPlan {
  if (o.prefix !== '' && !NAME.test(o.prefix)) {
    throw new Error(`--prefix ${o.prefix}: use lower-case letters, digits and _ (it starts database and role names)`);
  }
  const p = o.prefix;
  const role = (name: string) => ({ name: `${p}${name}`, password: randomBytes(18).toString('hex') });
  return {
    version: 1,
    prefix: p,
    namespace: o.namespace,
    postgres: o.postgres,
    databases: {
      temporal: `${p}temporal`,
      visibility: `${p}temporal_visibility`,
      app: `${p}audience_export`,
      source: `${p}profiles`,
    },
    roles: { temporal: role('temporal'), app: role('audience_export'), source: role('audience_export_reader') },
    ports: o.ports,
    workers: o.workers,
    profiles: o.profiles,
    pids: { workers: [] },
  };
}

export const temporalAddress = (plan: ClusterPlan): string => `127.0.0.1:${plan.ports.frontend}`;
export const apiUrl = (plan: ClusterPlan): string => `http://127.0.0.1:${plan.ports.api}`;

/** The database the profiles are in, and the role that loads them there (the reader only reads). */
export function profilesDatabase(plan: ClusterPlan): { database: string; loader: 'admin' | 'app' } {
  return plan.profiles === 'separate'
    ? { database: plan.databases.source, loader: 'admin' }
    : { database: plan.databases.app, loader: 'app' };
}

/** A PostgreSQL URL of a role on a database of the plan. */
export function databaseUrl(plan: ClusterPlan, role: keyof ClusterPlan['roles'], database: string): string {
  const url = new URL(`postgres://${plan.postgres.host}:${plan.postgres.port}/${database}`);
  url.username = plan.roles[role].name;
  url.password = plan.roles[role].password;
  return url.toString();
}

/** deploy/postgres-roles.sh's variables (its PG* connection comes from the admin URL). */
export function rolesEnv(plan: ClusterPlan): Record<string, string> {
  return {
    TEMPORAL_DB_USER: plan.roles.temporal.name,
    TEMPORAL_DB_PASSWORD: plan.roles.temporal.password,
    APP_DB: plan.databases.app,
    APP_DB_USER: plan.roles.app.name,
    APP_DB_PASSWORD: plan.roles.app.password,
    SOURCE_DB: plan.databases.source,
    SOURCE_DB_USER: plan.roles.source.name,
    SOURCE_DB_PASSWORD: plan.roles.source.password,
  };
}

/** deploy/temporal-schema.sh's variables: the sql tool connects as Temporal's own role. */
export function schemaEnv(plan: ClusterPlan, sqlTool: string): Record<string, string> {
  return {
    TEMPORAL_SQL_TOOL: sqlTool,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: plan.postgres.host,
    SQL_PORT: String(plan.postgres.port),
    SQL_USER: plan.roles.temporal.name,
    SQL_PASSWORD: plan.roles.temporal.password,
    TEMPORAL_DB: plan.databases.temporal,
    TEMPORAL_VISIBILITY_DB: plan.databases.visibility,
  };
}

/** deploy/temporal-server.sh's variables (deploy/temporal/production.yaml reads them); TLS ones pass through. */
export function serverEnv(plan: ClusterPlan, serverBinary: string): Record<string, string> {
  const p = plan.ports;
  return {
    TEMPORAL_SERVER: serverBinary,
    TEMPORAL_SERVER_DB_HOST: plan.postgres.host,
    TEMPORAL_SERVER_DB_PORT: String(plan.postgres.port),
    TEMPORAL_SERVER_DB_USER: plan.roles.temporal.name,
    TEMPORAL_SERVER_DB_PASSWORD: plan.roles.temporal.password,
    TEMPORAL_SERVER_DB: plan.databases.temporal,
    TEMPORAL_SERVER_VISIBILITY_DB: plan.databases.visibility,
    TEMPORAL_SERVER_BIND_IP: '127.0.0.1',
    TEMPORAL_SERVER_BROADCAST_ADDRESS: '127.0.0.1',
    TEMPORAL_SERVER_FRONTEND_PORT: String(p.frontend),
    TEMPORAL_SERVER_FRONTEND_HTTP_PORT: String(p.frontendHttp),
    TEMPORAL_SERVER_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    TEMPORAL_SERVER_HISTORY_PORT: String(p.history),
    TEMPORAL_SERVER_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    TEMPORAL_SERVER_MATCHING_PORT: String(p.matching),
    TEMPORAL_SERVER_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    TEMPORAL_SERVER_WORKER_PORT: String(p.worker),
    TEMPORAL_SERVER_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
  };
}

/** deploy/temporal-setup.sh's variables; the CLI reads the TEMPORAL_TLS_* ones from the environment itself. */
export function setupEnv(plan: ClusterPlan, cli: string): Record<string, string> {
  return { TEMPORAL_CLI: cli, TEMPORAL_ADDRESS: temporalAddress(plan), TEMPORAL_NAMESPACE: plan.namespace };
}

/**
 * What `audience-export api` and `worker` get on top of the caller's environment (keys, Facebook, PROFILE_SOURCE
 * and the TEMPORAL_TLS_* files pass through): our tables as their owner, the profiles as the read-only role (or
 * in our database).
 */
export function appEnv(plan: ClusterPlan): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl(plan, 'app', plan.databases.app),
    ...(plan.profiles === 'separate'
      ? { SOURCE_DATABASE_URL: databaseUrl(plan, 'source', plan.databases.source) }
      : {}),
    TEMPORAL_ADDRESS: temporalAddress(plan),
    TEMPORAL_NAMESPACE: plan.namespace,
    API_HOST: '127.0.0.1',
    API_PORT: String(plan.ports.api),
  };
}
