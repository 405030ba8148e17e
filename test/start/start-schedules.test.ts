import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAPPING } from '../../src/demo/demo-profiles.js';
import { freePort } from '../../src/ports.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import { openDb } from '../../src/store/index.js';
import { runCli, type CliProcess } from '../support/cli-process.js';
import { expectedRows, sandboxMembers } from '../support/expected-audience.js';

const PROFILES = 3_000;
const TABLES = { profilesTable: 'demo_profiles', membersTable: 'demo_segment_members' };

interface Run {
  runId: string;
  status: string;
  trigger: string;
  sent: number;
}

/**
 * #27: `audience-export start`, the real command as a child process (its dev server, sandbox, embedded database,
 * worker and API in one process), driven through its API as a new user would: exports that only a worker with a
 * Temporal client can run (a schedule's action starts the export from an activity) must complete exactly there.
 */
describe('audience-export start: scheduled exports and POST /refresh on the one-command stack', () => {
  let dataDir: string;
  let start: CliProcess;
  let apiUrl: string;
  let apiKey: string;
  let sandboxUrl: string;
  let fixtures: { adAccountId: string; systemUserToken: string };
  const audiences = new Map<string, Set<string>>();
  const destinations: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'audience-export-start-'));
    const seed = runCli(['seed', '--profiles', String(PROFILES)], { DATA_DIR: dataDir });
    expect(await seed.exited, seed.output()).toBe(0);
    start = runCli(['start'], {
      DATA_DIR: dataDir,
      API_PORT: String(await freePort()),
      TEMPORAL_UI_URL: `http://127.0.0.1:${await freePort()}`,
      EXPORT_PAGE_SIZE: '500',
      EXPORT_HEALTH_CHECK_DELAYS_MS: '',
      LOG_LEVEL: 'warn',
    });
    const link = (await start.waitFor(/Console:\s+(http:\/\/\S+#key=\S+)/, 170_000))[1]!;
    apiKey = decodeURIComponent(link.split('#key=')[1]!);
    apiUrl = (await start.waitFor(/API:\s+(http:\/\/\S+)/))[1]!;
    sandboxUrl = (await start.waitFor(/sandbox at (http:\/\/[^\s,]+)/))[1]!;
    fixtures = (await (await fetch(`${sandboxUrl}/__sandbox/fixtures`)).json()) as typeof fixtures;
  }, 240_000);

  afterAll(async () => {
    const code = await start?.stop();
    await rm(dataDir, { recursive: true, force: true });
    expect(code, start?.output()).toBe(0);
  }, 60_000);

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  };

  /** A ready destination over the API, as an operator makes one: token, consent, a mirror export of `segment`. */
  const createDestination = async (name: string, segment: string): Promise<string> => {
    const created = await api<{ id: string }>('POST', '/destinations', {
      displayName: name,
      adAccountId: fixtures.adAccountId,
      newAudienceName: `${name} audience`,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const path = `/destinations/${created.body.id}`;
    expect((await api('PUT', `${path}/facebook/token`, { token: fixtures.systemUserToken })).status).toBe(200);
    const statements = await api<{ current: string }>('GET', '/consent-statements');
    const consent = await api('POST', `${path}/consent`, {
      givenBy: 'operator@example.test',
      statementVersion: statements.body.current,
    });
    expect(consent.status).toBeLessThan(300);
    const config = await api('PUT', `${path}/export-config`, {
      keyIdentifier: 'EMAIL',
      mapping: DEMO_MAPPING,
      segments: [segment],
      mode: 'mirror',
      defaultCountry: 'US',
    });
    expect(config.status, JSON.stringify(config.body)).toBe(200);
    return created.body.id;
  };

  const finished = async (runId: string): Promise<Run> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { status, body } = await api<Run>('GET', `/exports/${runId}`);
      if (status === 200 && !['queued', 'running'].includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status}:\n${start.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  /** Every row of the destination's sandbox audience, kept to compare with the database once `start` stopped. */
  const keepAudience = async (destinationId: string, segment: string) => {
    const { body } = await api<{ audienceId: string | null }>('GET', `/destinations/${destinationId}`);
    expect(body.audienceId).toBeTruthy();
    const { rows } = await sandboxMembers({ url: sandboxUrl } as Sandbox, body.audienceId!);
    audiences.set(segment, rows);
  };

  it('a schedule set through the API and triggered runs its export to completion', async () => {
    const id = (destinations.all = await createDestination('Scheduled all', 'all'));
    const set = await api<{ nextRuns: string[] }>('PUT', `/destinations/${id}/schedule`, {
      cron: '0 6 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.nextRuns.length).toBeGreaterThan(0);

    const triggered = await api<{ runId: string | null }>('POST', `/destinations/${id}/schedule/trigger`);
    expect(triggered.status).toBe(202);
    expect(triggered.body.runId, JSON.stringify(await api('GET', `/destinations/${id}/schedule`))).toBeTruthy();
    const run = await finished(triggered.body.runId!);
    expect(run).toMatchObject({ status: 'completed', trigger: 'schedule' });
    expect(run.sent).toBeGreaterThan(PROFILES * 0.8);
    const schedule = await api<{ recentActions: { outcome: string; runId: string }[] }>(
      'GET',
      `/destinations/${id}/schedule`,
    );
    expect(schedule.body.recentActions.at(-1)).toMatchObject({ outcome: 'completed', runId: run.runId });
    await keepAudience(id, 'all');
  });

  it('POST /refresh starts every scheduled export: a new audience is filled, the exported one stays exact', async () => {
    const id = (destinations.vip = await createDestination('Refreshed vip', 'vip'));
    expect((await api('PUT', `/destinations/${id}/schedule`, { intervalSeconds: 86_400 })).status).toBe(200);
    const refreshed = await api<{ started: { destinationId: string; runId: string }[]; skipped: unknown[] }>(
      'POST',
      '/refresh',
    );
    expect(refreshed.status).toBe(202);
    expect(refreshed.body.started.map((s) => s.destinationId).sort()).toEqual(
      [destinations.all, destinations.vip].sort(),
    );
    for (const s of refreshed.body.started) {
      expect(await finished(s.runId)).toMatchObject({ status: 'completed', trigger: 'refresh' });
    }
    await keepAudience(destinations.vip, 'vip');
    await keepAudience(destinations.all!, 'all');
  });

  it('every audience holds exactly its segment (read from the embedded database once `start` stopped)', async () => {
    expect(await start.stop(), start.output()).toBe(0);
    const db = await openDb({ dataDir });
    try {
      for (const segment of ['all', 'vip']) {
        const expected = await expectedRows(db, TABLES, [segment]);
        expect(expected.rows.size).toBeGreaterThan(0);
        expect(audiences.get(segment)).toEqual(expected.rows);
      }
    } finally {
      await db.close();
    }
  });
});
