import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { NotFoundError, type Destination, type NewExportRun, type Store } from '../../src/store/index.js';
import { newDestination, openTestStore } from './helpers.js';

describe('export runs repository', () => {
  let db: Db;
  let store: Store;
  let d: Destination;
  beforeAll(async () => {
    ({ db, store } = await openTestStore());
    d = await newDestination(store);
  });
  afterAll(() => db.close());

  const newRun = (overrides: Partial<NewExportRun> = {}): NewExportRun => ({
    id: randomUUID(),
    destinationId: d.id,
    adAccountId: d.adAccountId!,
    audienceId: d.audienceId,
    segments: ['vip'],
    mode: 'mirror',
    trigger: 'manual',
    workflowId: `export:${d.adAccountId}:${d.audienceId}`,
    ...overrides,
  });

  it('creates idempotently by id', async () => {
    const input = newRun({ temporalRunId: 'r1' });
    const run = await store.exportRuns.create(input);
    expect(run).toMatchObject({
      status: 'running',
      phase: 'validating',
      sent: 0,
      dropped: {},
      pagesDone: 0,
      healthChecks: [],
    });
    const again = await store.exportRuns.create({ ...input, temporalRunId: 'r2', segments: ['other'] });
    expect(again).toEqual(run);
    await expect(store.exportRuns.get(randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('records progress and pages; retried and concurrent pages never double-count', async () => {
    const run = await store.exportRuns.create(newRun());
    await store.exportRuns.updateProgress(run.id, { phase: 'uploading', segmentSize: 25_000, pagesTotal: 3 });
    await Promise.all([
      store.exportRuns.recordPage(run.id, 1, {
        sent: 10_000,
        received: 10_000,
        invalid: 2,
        dropped: { no_identifier: 3 },
      }),
      store.exportRuns.recordPage(run.id, 2, {
        sent: 9_990,
        received: 9_990,
        dropped: { no_identifier: 1, consent_withdrawn: 9 },
      }),
    ]);
    // Page 2 retried with the same figures, page 3 last.
    await store.exportRuns.recordPage(run.id, 2, {
      sent: 9_990,
      received: 9_990,
      dropped: { no_identifier: 1, consent_withdrawn: 9 },
    });
    const after = await store.exportRuns.recordPage(run.id, 3, { sent: 4_990, received: 4_990, invalid: 1 });
    expect(after).toMatchObject({
      phase: 'uploading',
      segmentSize: 25_000,
      pagesTotal: 3,
      pagesDone: 3,
      sent: 24_980,
      received: 24_980,
      invalid: 3,
      dropped: { no_identifier: 4, consent_withdrawn: 9 },
    });
    await expect(store.exportRuns.recordPage(randomUUID(), 1, { sent: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('knows whether a page was posted before: in flight, or accepted, but not refused or empty', async () => {
    const run = await store.exportRuns.create(newRun());
    const posted = (page: number) => store.exportRuns.pagePosted(run.id, 'add', page);
    expect(await posted(0)).toBe(false);
    await store.exportRuns.markInFlight(run.id, 'add', 0, 100);
    expect(await posted(0)).toBe(true);
    expect(await store.exportRuns.pagePosted(run.id, 'remove', 0)).toBe(false);
    // Refused for certain: nothing of it was applied.
    await store.exportRuns.markInFlight(run.id, 'add', 0, 0);
    expect(await posted(0)).toBe(false);
    await store.exportRuns.recordPage(run.id, 1, { sent: 100, durationMs: 20 });
    expect(await posted(1)).toBe(true);
    await store.exportRuns.recordPage(run.id, 2, { sent: 0 });
    expect(await posted(2)).toBe(false);
  });

  it('finishes once, keeping the first finish time, and records errors without rows', async () => {
    const run = await store.exportRuns.create(newRun());
    const finishedAt = new Date('2030-01-01T00:00:00.123Z');
    const done = await store.exportRuns.finish(run.id, {
      status: 'failed',
      finishedAt,
      error: { message: 'Reconnect Facebook: the token expired', type: 'TokenExpired' },
      matched: 12,
      audienceLowerBound: 1000,
      audienceUpperBound: 1200,
      operationStatusCode: 200,
      deliveryStatusCode: 200,
    });
    expect(done).toMatchObject({
      status: 'failed',
      phase: 'finished',
      finishedAt,
      errorType: 'TokenExpired',
      matched: 12,
      audienceLowerBound: 1000,
    });
    const again = await store.exportRuns.finish(run.id, {
      status: 'failed',
      finishedAt: new Date('2031-01-01T00:00:00Z'),
    });
    expect(again.finishedAt).toEqual(finishedAt);
  });

  it('appends health checks once per time and takes their figures', async () => {
    const run = await store.exportRuns.create(newRun());
    const check = {
      at: '2030-01-01T01:00:00.000Z',
      lowerBound: 900,
      upperBound: 1100,
      operationStatus: 200,
      deliveryStatus: 200,
      matched: 950,
    };
    await store.exportRuns.appendHealthCheck(run.id, check);
    const twice = await store.exportRuns.appendHealthCheck(run.id, check);
    expect(twice.healthChecks).toEqual([check]);
    const later = { ...check, at: '2030-01-02T00:00:00.000Z', lowerBound: 1000, matched: null };
    const after = await store.exportRuns.appendHealthCheck(run.id, later);
    expect(after.healthChecks).toEqual([check, later]);
    expect(after).toMatchObject({ audienceLowerBound: 1000, audienceUpperBound: 1100, matched: 950 });
    await expect(store.exportRuns.appendHealthCheck(randomUUID(), check)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists newest first with filters and keyset paging', async () => {
    const other = await newDestination(store);
    const base = Date.parse('2029-05-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      // Two runs share each timestamp, so the id must break ties without skipping or repeating.
      const run = await store.exportRuns.create(
        newRun({ destinationId: other.id, startedAt: new Date(base + Math.floor(i / 2) * 60_000) }),
      );
      ids.push(run.id);
      if (i % 3 === 0) await store.exportRuns.finish(run.id, { status: 'completed' });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await store.exportRuns.list({ destinationId: other.id, limit: 3, cursor });
      seen.push(...page.items.map((r) => r.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(ids));
    const times = (await store.exportRuns.list({ destinationId: other.id, limit: 500 })).items.map((r) =>
      r.startedAt.getTime(),
    );
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const completed = await store.exportRuns.list({ destinationId: other.id, status: 'completed' });
    expect(completed.items).toHaveLength(3);
    const either = await store.exportRuns.list({ destinationId: other.id, status: ['completed', 'running'] });
    expect(either.items).toHaveLength(7);
    const window = await store.exportRuns.list({
      destinationId: other.id,
      startedFrom: new Date(base + 60_000),
      startedBefore: new Date(base + 180_000),
    });
    expect(window.items).toHaveLength(4);
    await expect(store.exportRuns.list({ cursor: 'not-a-cursor' })).rejects.toThrow(/cursor/);
  });
});
