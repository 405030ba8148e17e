import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { NotFoundError, type Store } from '../../src/store/index.js';
import { newDestination, openTestStore, uniqueAdAccount } from './helpers.js';

let db: Db;
let store: Store;
beforeAll(async () => ({ db, store } = await openTestStore()));
afterAll(() => db.close());

describe('consents repository', () => {
  it('records consent, withdraws it, and keeps the whole history', async () => {
    const d = await newDestination(store);
    expect(await store.consents.current(d.id)).toBeNull();

    const first = await store.consents.record(d.id, {
      givenBy: 'ops@example.com',
      statementVersion: '2025-01',
      givenAt: new Date('2025-01-01T00:00:00Z'),
    });
    const second = await store.consents.record(d.id, {
      givenBy: 'lead@example.com',
      statementVersion: '2025-06',
      givenAt: new Date('2025-06-01T00:00:00Z'),
    });
    expect(await store.consents.current(d.id)).toEqual(second);

    const withdrawnAt = new Date('2025-07-01T00:00:00Z');
    const withdrawn = await store.consents.withdraw(d.id, { withdrawnBy: 'dpo@example.com', withdrawnAt });
    expect(withdrawn.map((c) => c.id)).toEqual([second.id, first.id]);
    expect(
      withdrawn.every((c) => c.withdrawnBy === 'dpo@example.com' && c.withdrawnAt?.getTime() === withdrawnAt.getTime()),
    ).toBe(true);
    // No older consent comes back into force, and a second withdrawal changes nothing.
    expect(await store.consents.current(d.id)).toBeNull();
    expect(await store.consents.withdraw(d.id, { withdrawnBy: 'someone-else' })).toEqual([]);

    const renewed = await store.consents.record(d.id, { givenBy: 'ops@example.com', statementVersion: '2025-07' });
    expect((await store.consents.current(d.id))?.id).toBe(renewed.id);
    const history = await store.consents.history(d.id);
    expect(history.map((c) => c.statementVersion)).toEqual(['2025-07', '2025-06', '2025-01']);
    expect(history[1]?.withdrawnBy).toBe('dpo@example.com');
  });

  it('refuses consent for a destination that does not exist', async () => {
    await expect(
      store.consents.record('00000000-0000-4000-8000-000000000002', { givenBy: 'x', statementVersion: '1' }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('export configs repository', () => {
  it('puts with defaults, replaces, sets the schedule and lists active schedules', async () => {
    const d = await newDestination(store);
    const mapping = {
      EMAIL: { attribute: 'email' },
      PHONE: { attribute: 'phone_sha', prehashed: true },
      DOB: { attribute: 'birthday' },
    };
    const config = await store.exportConfigs.put(d.id, {
      keyIdentifier: 'EMAIL',
      mapping,
      segments: ['vip', 'newsletter'],
    });
    expect(config).toMatchObject({
      destinationId: d.id,
      keyIdentifier: 'EMAIL',
      mapping,
      segments: ['vip', 'newsletter'],
      mode: 'mirror',
      consentAttribute: null,
      limitedDataUse: false,
      defaultCountry: null,
      schedule: null,
    });
    expect(await store.exportConfigs.get(d.id)).toEqual(config);

    const replaced = await store.exportConfigs.put(d.id, {
      keyIdentifier: 'PHONE',
      mapping: { PHONE: { attribute: 'mobile' } },
      segments: ['vip'],
      mode: 'add',
      consentAttribute: 'marketing_ok',
      limitedDataUse: true,
      defaultCountry: 'DE',
    });
    expect(replaced).toMatchObject({
      keyIdentifier: 'PHONE',
      mode: 'add',
      limitedDataUse: true,
      defaultCountry: 'DE',
      consentAttribute: 'marketing_ok',
    });

    const schedule = { cron: '0 3 * * *', timezone: 'Europe/Berlin', paused: false };
    expect((await store.exportConfigs.setSchedule(d.id, schedule)).schedule).toEqual(schedule);
    expect((await store.exportConfigs.listScheduled()).map((c) => c.destinationId)).toContain(d.id);
    await store.exportConfigs.setSchedule(d.id, { ...schedule, paused: true });
    expect((await store.exportConfigs.listScheduled()).map((c) => c.destinationId)).not.toContain(d.id);
    expect((await store.exportConfigs.setSchedule(d.id, null)).schedule).toBeNull();

    expect(await store.exportConfigs.delete(d.id)).toBe(true);
    await expect(store.exportConfigs.get(d.id)).rejects.toMatchObject({ entity: 'export config', id: d.id });
  });

  it('refuses a config for a missing destination and values outside the allowed sets', async () => {
    await expect(
      store.exportConfigs.put('00000000-0000-4000-8000-000000000003', {
        keyIdentifier: 'EMAIL',
        mapping: {},
        segments: [],
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const d = await newDestination(store);
    await expect(
      store.exportConfigs.put(d.id, { keyIdentifier: 'EMAIL', mapping: {}, segments: [], defaultCountry: 'de' }),
    ).rejects.toThrow();
    await expect(
      store.exportConfigs.put(d.id, { keyIdentifier: 'FAX' as 'EMAIL', mapping: {}, segments: [] }),
    ).rejects.toThrow();
  });
});

describe('ad account blocks repository', () => {
  it('blocks, only ever extends the block, and reports it while in force', async () => {
    const account = uniqueAdAccount();
    const now = new Date('2030-01-01T00:00:00Z');
    expect(await store.adAccountBlocks.blockedUntil(account, now)).toBeNull();

    const later = new Date('2030-01-01T00:05:00Z');
    expect(await store.adAccountBlocks.block(account, later, 'throttled (80004)')).toEqual({
      adAccountId: account,
      blockedUntil: later,
      reason: 'throttled (80004)',
    });
    // A shorter wait reported meanwhile does not shorten the block, nor replace its reason.
    const shorter = await store.adAccountBlocks.block(account, new Date('2030-01-01T00:01:00Z'), 'throttled (17)');
    expect(shorter).toEqual({ adAccountId: account, blockedUntil: later, reason: 'throttled (80004)' });
    const longest = new Date('2030-01-01T01:00:00Z');
    expect((await store.adAccountBlocks.block(account, longest, 'throttled (613)')).reason).toBe('throttled (613)');

    expect(await store.adAccountBlocks.blockedUntil(account, now)).toEqual(longest);
    expect(await store.adAccountBlocks.get(account, now)).toMatchObject({ reason: 'throttled (613)' });
    expect(await store.adAccountBlocks.blockedUntil(account, new Date('2030-01-01T01:00:00.001Z'))).toBeNull();
    expect(await store.adAccountBlocks.blockedUntil(uniqueAdAccount(), now)).toBeNull();
  });
});
