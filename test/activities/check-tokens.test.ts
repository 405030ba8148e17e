import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAllTokens, type TokenCheckSummary } from '../../src/activities/check-tokens.js';
import { notifyTokenCheck } from '../../src/activities/notify.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { openDb, type Db } from '../../src/store/db.js';
import { createStore, migrate, type Store } from '../../src/store/index.js';
import { ExportFailureType } from '../../src/workflows/contracts.js';
import { connectTemporal, openTestDb, testDatabaseUrl, uniqueTaskQueue } from '../support/context.js';
import { ENCRYPTION_KEY_B64 } from '../support/api-harness.js';

describe('daily token check (workflow + activity)', () => {
  let db: Db;
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  let sandbox: Sandbox;
  let store: Store;

  beforeAll(async () => {
    // A schema of its own: the check walks every destination, and other test files' tokens belong to other
    // sandboxes, so in the shared schema it would flag their destinations while they run.
    const admin = await openTestDb();
    await admin.query('DROP SCHEMA IF EXISTS api_check_tokens CASCADE');
    await admin.query('CREATE SCHEMA api_check_tokens');
    await admin.close();
    const url = new URL(testDatabaseUrl());
    url.searchParams.set('options', '-c search_path=api_check_tokens');
    db = await openDb({ url: url.toString(), maxConnections: 2 });
    await migrate(db);
    temporal = await connectTemporal();
    sandbox = await startSandbox();
    store = createStore(db, { encryptionKey: Buffer.from(ENCRYPTION_KEY_B64, 'base64') });
  });
  afterAll(async () => {
    await sandbox.close();
    await temporal.close();
    await db.close();
  });

  it('flags a token that stopped working and reports one expiring within 7 days', async () => {
    const f = sandbox.fixtures;
    const make = async (name: string, token: string, expiresAt: Date | null) => {
      const d = await store.destinations.create({
        displayName: name,
        facebookAppId: f.appId,
        adAccountId: f.adAccountId,
        newAudienceName: name,
      });
      await store.credentials.save(d.id, { kind: 'system_user', token, scopes: ['ads_management'], expiresAt });
      return d.id;
    };
    const healthy = await make('healthy', f.systemUserToken, null);
    const expired = await make('expired', f.expiredToken, null);
    const noScope = await make('no scope', f.noAdsManagementToken, null);
    const graph = createGraphClient({
      graphUrl: sandbox.url,
      dialogUrl: sandbox.url,
      apiVersion: 'v26.0',
      appId: f.appId,
      appSecret: f.appSecret,
    });
    // The sandbox's user token lives 60 days; a clock 55 days ahead puts it inside the 7-day warning window.
    const soon = await make('soon', f.userToken, null);
    const now = () => Date.now() + 55 * 86_400_000;

    const taskQueue = uniqueTaskQueue('check-tokens');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: {
        checkAllTokens: () => checkAllTokens({ store, graph, now }),
        // No webhook configured: the check's notifications are a no-op here (tested in notifications tests).
        notifyTokenCheck: (summary: TokenCheckSummary) => notifyTokenCheck({ store, webhook: undefined }, summary),
      },
    });
    const summary = await worker.runUntil(
      temporal.client.workflow.execute('checkTokens', { taskQueue, workflowId: `check-tokens-${taskQueue}` }),
    );
    await graph.close();

    const s = summary as { checked: number; expiringSoon: string[]; needsReconnect: string[] };
    expect(s.needsReconnect).toEqual(expect.arrayContaining([expired, noScope]));
    expect(s.needsReconnect).not.toContain(healthy);
    expect(s.expiringSoon).toContain(soon);
    expect(s.expiringSoon).not.toContain(healthy);
    expect((await store.destinations.get(expired)).status).toBe('needs_reconnect');
    expect((await store.destinations.get(healthy)).status).toBe('active');
    expect((await store.credentials.describe(healthy))?.verifiedAt).not.toBeNull();
    expect(JSON.stringify(summary)).not.toContain(f.systemUserToken);
  });

  it('fails once, naming the app credentials, when the app secret is wrong, and flags no destination', async () => {
    const f = sandbox.fixtures;
    const d = await store.destinations.create({
      displayName: 'wrong app secret',
      facebookAppId: f.appId,
      adAccountId: f.adAccountId,
      newAudienceName: 'wrong app secret',
    });
    await store.credentials.save(d.id, {
      kind: 'system_user',
      token: f.systemUserToken,
      scopes: ['ads_management'],
      expiresAt: null,
    });
    const graph = createGraphClient({
      graphUrl: sandbox.url,
      dialogUrl: sandbox.url,
      apiVersion: 'v26.0',
      appId: f.appId,
      appSecret: 'not-the-app-secret-0123456789abcdef',
    });
    try {
      await expect(checkAllTokens({ store, graph })).rejects.toMatchObject({
        type: ExportFailureType.AppCredentialsInvalid,
        nonRetryable: true,
        message: expect.stringMatching(/FACEBOOK_APP_ID or FACEBOOK_APP_SECRET is wrong/) as string,
      });
    } finally {
      await graph.close();
    }
    expect((await store.destinations.get(d.id)).status).not.toBe('needs_reconnect');
  });
});
