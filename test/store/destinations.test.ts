import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { AudienceAlreadyUsedError, NotFoundError, type Store } from '../../src/store/index.js';
import { newDestination, openTestStore, uniqueAdAccount, uniqueAudience, waitForLockWait } from './helpers.js';

describe('destinations repository', () => {
  let db: Db;
  let store: Store;
  beforeAll(async () => ({ db, store } = await openTestStore()));
  afterAll(() => db.close());

  it('creates, gets, updates and sets status and audience', async () => {
    const created = await newDestination(store, null);
    expect(created).toMatchObject({
      status: 'active',
      audienceId: null,
      newAudienceName: 'Newsletter (audience-export)',
    });
    expect(await store.destinations.get(created.id)).toEqual(created);

    const renamed = await store.destinations.update(created.id, { displayName: 'Renamed' });
    expect(renamed.displayName).toBe('Renamed');
    expect(renamed.adAccountId).toBe(created.adAccountId);

    expect((await store.destinations.setStatus(created.id, 'needs_reconnect')).status).toBe('needs_reconnect');
    const audienceId = uniqueAudience();
    expect((await store.destinations.setAudience(created.id, audienceId)).audienceId).toBe(audienceId);
    // A retried activity setting the same audience is harmless.
    expect((await store.destinations.setAudience(created.id, audienceId)).audienceId).toBe(audienceId);
  });

  it('refuses a second destination on one audience, on create, update and setAudience', async () => {
    const first = await newDestination(store);
    const second = {
      displayName: 'Second',
      facebookAppId: '1',
      adAccountId: first.adAccountId,
      audienceId: first.audienceId,
    };
    const err = await store.destinations.create(second).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudienceAlreadyUsedError);
    expect(err).toMatchObject({
      adAccountId: first.adAccountId,
      audienceId: first.audienceId,
      code: 'AUDIENCE_ALREADY_USED',
    });

    const other = await store.destinations.create({ ...second, audienceId: null, newAudienceName: 'New one' });
    await expect(store.destinations.setAudience(other.id, first.audienceId!)).rejects.toBeInstanceOf(
      AudienceAlreadyUsedError,
    );
    await expect(store.destinations.update(other.id, { audienceId: first.audienceId })).rejects.toBeInstanceOf(
      AudienceAlreadyUsedError,
    );
    // Once the first lets go of the audience, the other may take it.
    await store.destinations.delete(first.id);
    expect((await store.destinations.setAudience(other.id, first.audienceId!)).audienceId).toBe(first.audienceId);
  });

  it('keeps a draft without ad account or audience, but refuses an audience without its account and a malformed account', async () => {
    const draft = await store.destinations.create({ displayName: 'draft', facebookAppId: '1' });
    expect(draft).toMatchObject({ adAccountId: null, audienceId: null, newAudienceName: null });
    const chosen = await store.destinations.update(draft.id, { adAccountId: uniqueAdAccount(), newAudienceName: 'n' });
    expect(chosen.newAudienceName).toBe('n');
    await expect(
      store.destinations.create({ displayName: 'x', facebookAppId: '1', audienceId: String(Date.now()) }),
    ).rejects.toThrow(/destinations_audience_in_account/);
    await expect(
      store.destinations.create({ displayName: 'x', facebookAppId: '1', adAccountId: '123', audienceId: '1' }),
    ).rejects.toThrow();
  });

  it('raises NotFoundError with entity and id', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const err = await store.destinations.get(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ entity: 'destination', id });
    await expect(store.destinations.setStatus(id, 'paused')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.destinations.update(id, { displayName: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.destinations.delete(id)).toBe(false);
  });

  it('keeps a deleted destination deleted: no other status, set or updated, brings it back', async () => {
    const d = await newDestination(store);
    await store.destinations.setStatus(d.id, 'needs_terms');
    expect((await store.destinations.setStatus(d.id, 'deleted')).status).toBe('deleted');
    // A token check or an export's validation that ran meanwhile: refused, and told the destination is deleted.
    for (const status of ['needs_reconnect', 'active', 'needs_terms', 'paused'] as const) {
      expect((await store.destinations.setStatus(d.id, status)).status).toBe('deleted');
    }
    // The PATCH of a destination that needed terms, moved to another account, sets it active.
    const moved = await store.destinations.update(d.id, { adAccountId: uniqueAdAccount(), status: 'active' });
    expect(moved).toMatchObject({ status: 'deleted', audienceId: d.audienceId });
    // The deletion path sets it again when retried.
    expect((await store.destinations.setStatus(d.id, 'deleted')).status).toBe('deleted');
    expect((await store.destinations.get(d.id)).status).toBe('deleted');
  });

  it('does not overwrite a deletion that commits while a status change waits for the row', async () => {
    const d = await newDestination(store);
    let flagged: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query("UPDATE destinations SET status = 'deleted' WHERE id = $1", [d.id]);
      // Waits for the deletion's row lock, then finds the row deleted (or, if it starts late, finds it so at once).
      flagged = store.destinations.setStatus(d.id, 'needs_reconnect');
      await waitForLockWait(db, 'UPDATE destinations SET status');
    });
    expect(await flagged).toMatchObject({ status: 'deleted' });
    expect((await store.destinations.get(d.id)).status).toBe('deleted');
  });

  it('lists in creation order with keyset paging and a status filter', async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await newDestination(store));
    await store.destinations.setStatus(mine[2]!.id, 'needs_terms');

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.destinations.list({ limit: 2, cursor });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    // Creation order is (created_at to the millisecond, then id): two made in one millisecond sort by id.
    const created = [...mine].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    const order = created.map((d) => seen.indexOf(d.id));
    expect(order.every((pos, i) => pos >= 0 && (i === 0 || pos > order[i - 1]!))).toBe(true);

    const needsTerms = await store.destinations.list({ status: 'needs_terms', limit: 500 });
    expect(needsTerms.items.map((d) => d.id)).toContain(mine[2]!.id);
    expect(needsTerms.items.every((d) => d.status === 'needs_terms')).toBe(true);
  });

  it('deletes credentials, config and audience snapshot with the destination, keeping consent and runs', async () => {
    const d = await newDestination(store);
    const keep = await newDestination(store);
    await store.credentials.save(d.id, { kind: 'system_user', token: 'EAAB-delete-me' });
    await store.exportConfigs.put(d.id, {
      keyIdentifier: 'EMAIL',
      mapping: { EMAIL: { attribute: 'email' } },
      segments: ['s'],
    });
    await store.consents.record(d.id, { givenBy: 'ops@example.com', statementVersion: '2025-01' });
    const runId = crypto.randomUUID();
    await store.exportRuns.create({
      id: runId,
      destinationId: d.id,
      adAccountId: d.adAccountId!,
      audienceId: d.audienceId,
      segments: ['s'],
      mode: 'mirror',
      trigger: 'manual',
      workflowId: `export:${d.adAccountId}:${d.audienceId}`,
    });
    const rows = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ profileKey: `p${i}`, fingerprint: randomBytes(16), cells: ['x'] }));
    await store.snapshots.recordPossiblySent(d.audienceId!, runId, rows(3));
    await store.snapshots.recordPossiblySent(keep.audienceId!, runId, rows(2));

    expect(await store.destinations.delete(d.id)).toBe(true);

    await expect(store.destinations.get(d.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.credentials.describe(d.id)).toBeNull();
    await expect(store.exportConfigs.get(d.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.snapshots.count(d.audienceId!)).total).toBe(0);
    expect((await store.snapshots.count(keep.audienceId!)).total).toBe(2);
    expect(await store.consents.history(d.id)).toHaveLength(1);
    expect((await store.exportRuns.get(runId)).destinationId).toBe(d.id);
  });
});
