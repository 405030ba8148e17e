/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument -- JSON bodies of many shapes, asserted field by field */
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleIdOf } from '../../src/api/services/temporal-control.js';
import { buildRows } from '../../src/domain/canonical-row.js';
import { runIdOfStagingTable, timeOfRunId } from '../../src/sources/sql-names.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { searchAttributes } from '../../src/workflows/search-attributes.js';
import { connectTemporal, openTestDb, uniqueTaskQueue } from '../support/context.js';
import { auth, buildTestApp, testDeps } from '../support/api-harness.js';

const json = { ...auth, 'content-type': 'application/json' };
const TABLES = 'api_cfg';
interface Problem {
  status: number;
  errors: Array<{ field: string; message: string }>;
}

const emailMapping = {
  EMAIL: { attribute: 'email' },
  PHONE: { attribute: 'phone' },
  FN: { attribute: 'first_name' },
  DOB: { attribute: 'date_of_birth' },
  COUNTRY: { attribute: 'country' },
};

describe('consent and export configs', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let app: FastifyInstance;
  let baseUrl: string;

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db);
    temporal = await connectTemporal();
    app = await buildTestApp(await testDeps({ db, temporalClient: temporal.client, tables: TABLES, profiles: 600 }));
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await temporal.close();
    await db.close();
  });

  async function call(method: 'POST' | 'PUT' | 'GET' | 'DELETE', path: string, body?: unknown) {
    const res = await request(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? auth : json,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.statusCode, type: String(res.headers['content-type']), body: (await res.body.json()) as any };
  }

  async function newDestination(): Promise<string> {
    const { status, body } = await call('POST', '/destinations', {
      displayName: 'Config',
      adAccountId: 'act_55',
      newAudienceName: 'Config',
    });
    expect(status).toBe(201);
    return body.id as string;
  }

  it('records consent (who, when, version), lists it, and withdrawal cancels exports and pauses the schedule', async () => {
    const id = await newDestination();
    const before = Date.now();
    const given = await call('POST', `/destinations/${id}/consent`, {
      givenBy: 'ops@example.com',
      statementVersion: '2026-01',
    });
    expect(given.status).toBe(201);
    expect(given.body).toMatchObject({ givenBy: 'ops@example.com', statementVersion: '2026-01', withdrawnAt: null });
    expect(Date.parse(given.body.givenAt)).toBeGreaterThanOrEqual(before - 1000);
    expect((await call('GET', `/destinations/${id}`)).body.consent).toMatchObject({ statementVersion: '2026-01' });

    const taskQueue = uniqueTaskQueue('api-consent');
    const handle = await temporal.client.workflow.start('exportSegment', {
      taskQueue,
      workflowId: `test-consent-${id}`,
      typedSearchAttributes: [{ key: searchAttributes.destinationId, value: id }],
    });
    const schedule = await temporal.client.schedule.create({
      scheduleId: scheduleIdOf(id),
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'exportSegment', taskQueue },
    });
    const query = `DestinationId = '${id}' AND ExecutionStatus = 'Running'`;
    await expect.poll(async () => (await temporal.client.workflow.count(query)).count, { timeout: 10_000 }).toBe(1);

    const withdrawn = await call('DELETE', `/destinations/${id}/consent?withdrawnBy=ops%40example.com`);
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toMatchObject({ cancelledExports: 1, schedulePaused: true });
    expect(withdrawn.body.withdrawn[0]).toMatchObject({ withdrawnBy: 'ops@example.com' });
    expect((await schedule.describe()).state.paused).toBe(true);
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionCancelRequestedEventAttributes)).toBe(true);
    expect((await call('GET', `/destinations/${id}`)).body.consent).toBeNull();
    expect((await call('GET', `/destinations/${id}/consent`)).body.items).toHaveLength(1);
    await handle.terminate('test cleanup');
    await schedule.delete();
  });

  it('stores a valid export config and reads it back', async () => {
    const id = await newDestination();
    const put = await call('PUT', `/destinations/${id}/export-config`, {
      keyIdentifier: 'EMAIL',
      mapping: emailMapping,
      segments: ['vip', 'newsletter'],
      consentAttribute: 'marketing_consent',
      limitedDataUse: true,
      defaultCountry: 'US',
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const got = await call('GET', `/destinations/${id}/export-config`);
    expect(got.body).toMatchObject({
      keyIdentifier: 'EMAIL',
      mode: 'mirror',
      segments: ['vip', 'newsletter'],
      consentAttribute: 'marketing_consent',
      limitedDataUse: true,
      defaultCountry: 'US',
      mapping: { EMAIL: { attribute: 'email' }, DOB: { attribute: 'date_of_birth' } },
    });
  });

  it('warns, and still saves, when phones have no country to be read in', async () => {
    const id = await newDestination();
    const config = { keyIdentifier: 'EMAIL', mapping: { ...emailMapping, COUNTRY: undefined }, segments: ['vip'] };
    const put = await call('PUT', `/destinations/${id}/export-config`, config);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.warnings).toEqual([
      { field: 'mapping.PHONE', message: expect.stringContaining('phone_country_unknown') as string },
    ]);
    expect((await call('GET', `/destinations/${id}/export-config`)).body.warnings).toHaveLength(1);
    const withDefault = await call('PUT', `/destinations/${id}/export-config`, { ...config, defaultCountry: 'US' });
    expect(withDefault.body.warnings).toEqual([]);
    const withCountry = await call('PUT', `/destinations/${id}/export-config`, { ...config, mapping: emailMapping });
    expect(withCountry.body.warnings).toEqual([]);
  });

  it('previews the phones left out for want of a country, as the domain counts them', async () => {
    const id = await newDestination();
    const mapping = { PHONE: { attribute: 'phone' }, EMAIL: { attribute: 'email' } };
    const members = await db.query<{ key: string; attributes: Record<string, unknown> }>(
      `SELECT p.key, to_jsonb(p) - 'key' AS attributes FROM ${TABLES}_profiles p
       JOIN ${TABLES}_members m ON m.profile_key = p.key AND m.segment = 'all' ORDER BY p.key`,
    );
    const expected = buildRows(members, mapping, { keyIdentifier: 'PHONE' });
    const phoneKey = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'all',
      keyIdentifier: 'PHONE',
      mapping,
    });
    expect(phoneKey.status, JSON.stringify(phoneKey.body)).toBe(200);
    expect(phoneKey.body.dropped.phone_country_unknown).toBe(expected.droppedByReason.phone_country_unknown);
    expect(phoneKey.body.dropped.phone_country_unknown).toBeGreaterThan(0); // demo phones are mostly national
    expect(phoneKey.body.phonesWithoutCountry).toBe(phoneKey.body.dropped.phone_country_unknown);
    expect(phoneKey.body.exportable).toBe(expected.rows.length);
    // As a second key the profiles are sent without their phone, and the preview still counts those phones.
    const emailKey = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'all',
      keyIdentifier: 'EMAIL',
      mapping,
    });
    expect(emailKey.body.dropped.phone_country_unknown).toBe(0);
    expect(emailKey.body.phonesWithoutCountry).toBe(phoneKey.body.phonesWithoutCountry);
    const withDefault = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'all',
      keyIdentifier: 'PHONE',
      mapping,
      defaultCountry: 'US',
    });
    expect(withDefault.body.dropped.phone_country_unknown).toBe(0);
    expect(withDefault.body.phonesWithoutCountry).toBe(0);
  });

  it('refuses an export config naming every field at fault', async () => {
    const id = await newDestination();
    const res = await call('PUT', `/destinations/${id}/export-config`, {
      keyIdentifier: 'NAME_ADDRESS',
      mapping: { FN: { attribute: 'first_name' }, EMAIL: { attribute: 'e_mail' } },
      segments: ['vip', 'no_such_segment'],
      consentAttribute: 'nope',
      defaultCountry: 'XX',
    });
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/^application\/problem\+json/);
    const fields = (res.body as Problem).errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'body.mapping.LN',
        'body.mapping.COUNTRY',
        'body.mapping.ZIP',
        'body.mapping.EMAIL.attribute',
        'body.segments.1',
        'body.consentAttribute',
        'body.defaultCountry',
      ]),
    );
    expect(fields).not.toContain('body.segments.0');
    const unknownKey = await call('PUT', `/destinations/${id}/export-config`, {
      keyIdentifier: 'EMAIL',
      mapping: { EMAIL: { attribute: 'email' }, SSN: { attribute: 'ssn' } },
      segments: ['vip'],
    });
    expect(unknownKey.status).toBe(400);
    expect((unknownKey.body as Problem).errors.map((e) => e.field)).toContain('body.mapping.SSN');
    expect((await call('GET', `/destinations/${id}/export-config`)).status).toBe(404);
  });

  it('previews a segment: usable key identifier and each mapped key, matching the domain on the same rows', async () => {
    const id = await newDestination();
    const preview = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'all',
      keyIdentifier: 'EMAIL',
      mapping: emailMapping,
      defaultCountry: 'US',
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    const members = await db.query<{ key: string; attributes: Record<string, unknown> }>(
      `SELECT p.key, to_jsonb(p) - 'key' AS attributes FROM ${TABLES}_profiles p
       JOIN ${TABLES}_members m ON m.profile_key = p.key AND m.segment = 'all' ORDER BY p.key`,
    );
    const expected = buildRows(members, emailMapping, { keyIdentifier: 'EMAIL', defaultCountry: 'US' });
    expect(preview.body).toMatchObject({
      segment: 'all',
      segmentSize: members.length,
      sampled: members.length,
      exportable: expected.rows.length,
      usableKeyIdentifier: expected.rows.length,
      keys: { EMAIL: expected.rows.length },
    });
    expect(preview.body.exportable).toBeGreaterThan(0);
    expect(preview.body.exportable).toBeLessThan(members.length); // the demo data has unusable emails
    expect(preview.body.keys.PHONE).toBeLessThanOrEqual(expected.rows.length);
    expect(Object.keys(preview.body.keys).sort()).toEqual(['COUNTRY', 'DOB', 'EMAIL', 'FN', 'PHONE']);
    expect(JSON.stringify(preview.body)).not.toMatch(/@|cust-/); // counts only, no personal data or keys

    // With the consent attribute, profiles without consent are counted as dropped, not exportable.
    const withConsent = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'all',
      keyIdentifier: 'EMAIL',
      mapping: emailMapping,
      consentAttribute: 'marketing_consent',
    });
    expect(withConsent.body.dropped.no_consent).toBeGreaterThan(0);
    expect(withConsent.body.exportable).toBeLessThan(preview.body.exportable);

    // The previews' staging tables are gone. Previews name them with time-ordered ids; exports of other test
    // files (sharing this database) use random ones, so only preview tables are counted.
    const staging = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE tablename LIKE 'staging\\_run\\_%'",
    );
    const previews = staging.filter((t) => {
      const id = runIdOfStagingTable(t.tablename);
      return id !== undefined && timeOfRunId(id) !== undefined;
    });
    expect(previews).toEqual([]);
  });

  it('refuses a preview for an unknown segment or without a mapping', async () => {
    const id = await newDestination();
    const unknown = await call('POST', `/destinations/${id}/export-config/preview`, {
      segment: 'gone',
      keyIdentifier: 'EMAIL',
      mapping: emailMapping,
    });
    expect(unknown.status).toBe(400);
    expect((unknown.body as Problem).errors).toContainEqual({
      field: 'body.segment',
      message: 'no such segment in the profile source',
    });
    const noMapping = await call('POST', `/destinations/${id}/export-config/preview`, { segment: 'vip' });
    expect(noMapping.status).toBe(400);
    expect((noMapping.body as Problem).errors[0]?.field).toBe('body.keyIdentifier');
  });
});
