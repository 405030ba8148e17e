import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MAPPING } from '../../src/demo/demo-profiles.js';
import { DropReason } from '../../src/domain/canonical-row.js';
import { startExport } from '../../src/temporal/start-export.js';
import { ExportFailureType } from '../../src/workflows/contracts.js';
import { failureCause } from '../support/faults/fault-export.js';
import { createDestination, targetOf } from '../support/export-env.js';
import { runExport } from '../support/run-export.js';
import { auth, startSecurityStack, type SecurityStack } from './stack.js';

const EXTERN_ID = 0;
const MADID = 14;

/** What Meta receives in clear: EXTERN_ID and MADID only from columns the profile source allows (#25). */
describe('plaintext keys', () => {
  let s: SecurityStack;

  beforeAll(async () => {
    s = await startSecurityStack('sec_plain', { profiles: 120 });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function members(audienceId: string): Promise<unknown[][]> {
    const res = await fetch(`${s.env.sandbox.url}/__sandbox/audiences/${audienceId}/members?limit=10000`);
    return ((await res.json()) as { members: unknown[][] }).members;
  }

  it('refuses an export config that maps a column the source does not list to EXTERN_ID or MADID', async () => {
    const d = await createDestination(s.env);
    const put = (mapping: Record<string, unknown>) =>
      s.app.inject({
        method: 'PUT',
        url: `/destinations/${d.id}/export-config`,
        headers: auth,
        payload: { keyIdentifier: 'EMAIL', mapping, segments: ['all'], mode: 'add', defaultCountry: 'US' },
      });
    const refused = await put({ ...DEMO_MAPPING, EXTERN_ID: { attribute: 'email' }, MADID: { attribute: 'phone' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    const fields = refused.json<{ errors: { field: string; message: string }[] }>().errors;
    expect(fields.map((e) => e.field).sort()).toEqual([
      'body.mapping.EXTERN_ID.attribute',
      'body.mapping.MADID.attribute',
    ]);
    expect(fields[0]!.message).toMatch(/plaintextColumns/);
    // The demo source lists its profile key as safe in clear.
    const accepted = await put({ ...DEMO_MAPPING, EXTERN_ID: { attribute: 'key' } });
    expect(accepted.statusCode).toBe(200);
  });

  it('drops profiles whose EXTERN_ID looks like an e-mail or a phone, and counts them in the report', async () => {
    const t = s.env.tables;
    // Two profiles whose allowed column holds contact details (a mis-filled row).
    const [a, b] = await s.env.db.query<{ key: string }>(`SELECT key FROM ${t.profilesTable} ORDER BY key LIMIT 2`);
    const renamed = [
      [a!.key, 'Someone.Else@example.org'],
      [b!.key, '+1 (415) 555-0100'],
    ];
    // Their memberships follow the new keys: the demo's foreign key cascades.
    for (const [from, to] of renamed) {
      await s.env.db.query(`UPDATE ${t.profilesTable} SET key = $2 WHERE key = $1`, [from, to]);
    }
    const d = await createDestination(s.env, {
      config: { mapping: { ...DEMO_MAPPING, EXTERN_ID: { attribute: 'key' } } },
    });
    const { result } = await runExport(s.temporal.client, s.taskQueue, d, ['all'], 'add');
    expect(result.status).toBe('completed');
    expect(result.progress.droppedByReason[DropReason.PLAINTEXT_LOOKS_PERSONAL]).toBe(2);
    const detail = await s.app.inject({ method: 'GET', url: `/exports/${result.runId}`, headers: auth });
    expect(detail.json<{ dropped: Record<string, number> }>().dropped).toMatchObject({ plaintext_looks_personal: 2 });

    const sent = await members(result.audienceId);
    expect(sent.length).toBeGreaterThan(50);
    const clear = sent.map((m) => m[EXTERN_ID]);
    expect(clear.every((v) => typeof v === 'string' && /^cust-\d{10}$/.test(v))).toBe(true);
    expect(sent.every((m) => m[MADID] === '')).toBe(true);
  });

  it('refuses a run whose saved config maps a column the source no longer allows', async () => {
    const d = await createDestination(s.env, {
      config: { mapping: { ...DEMO_MAPPING, MADID: { attribute: 'city' } } },
    });
    const started = await startExport(s.temporal.client, targetOf(d, ['all'], 'add'), {
      taskQueue: s.taskQueue,
      trigger: 'manual',
      timings: { healthCheckDelaysMs: [] },
    });
    const err = await s.temporal.client.workflow
      .getHandle(started.workflowId)
      .result()
      .catch((e: unknown) => e);
    const cause = failureCause(err);
    expect(cause.type).toBe(ExportFailureType.ExportConfigRefused);
    expect(cause.message).toContain('mapping.MADID.attribute');
  });
});
