import { afterAll, describe, expect, it } from 'vitest';
import { buildRows } from '../../src/domain/canonical-row.js';
import type { AttributeMapping } from '../../src/domain/mapping.js';
import { DEMO_MAPPING, generateDemoProfile } from '../../src/demo/demo-profiles.js';
import { RowBuilderError, RowBuilderFailure, RowBuilderPool } from '../../src/row-builder/pool.js';

const OPTIONS = {
  keyIdentifier: 'EMAIL',
  defaultCountry: 'US',
  consentAttribute: 'marketing_consent',
  limitedDataUse: true,
} as const;

const pools: RowBuilderPool[] = [];
const poolOf = (...args: ConstructorParameters<typeof RowBuilderPool>): RowBuilderPool => {
  const pool = new RowBuilderPool(...args);
  pools.push(pool);
  return pool;
};
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe('RowBuilderPool', () => {
  it.each([false, true])(
    'gives exactly what buildRows gives, drops by reason included, for pages at once (inline when busy: %s)',
    async (inlineWhenBusy) => {
      const pool = poolOf({ threads: 2, minPageSize: 1_000, inlineWhenBusy });
      const pages = [0, 1, 2, 3].map((page) =>
        Array.from({ length: 5_000 }, (_, index) => generateDemoProfile(page * 5_000 + index, 13)),
      );
      const built = await Promise.all(
        pages.map((profiles) => pool.build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS })),
      );
      for (const [page, profiles] of pages.entries()) {
        const inline = buildRows(profiles, DEMO_MAPPING, OPTIONS);
        expect(built[page]).toEqual(inline);
        // Byte for byte, as the request body will carry it (toEqual alone would accept a different key order).
        expect(JSON.stringify(built[page])).toBe(JSON.stringify(inline));
        expect(inline.dropped.length).toBeGreaterThan(0);
        expect(Object.values(inline.droppedByReason).filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      }
    },
  );

  it('carries every kind of attribute value and name exactly (dates, objects, null, __proto__, inherited names)', async () => {
    const mapping: AttributeMapping = {
      EMAIL: { attribute: '__proto__' },
      PHONE: { attribute: 'toString' },
      DOB: { attribute: 'born' },
      FN: { attribute: 'first' },
      EXTERN_ID: { attribute: 'id' },
      COUNTRY: { attribute: 'country' },
    };
    const values: unknown[] = [new Date('1980-02-03T00:00:00Z'), { a: 1 }, null, 42, true, '', ' x@y.com ', [1], NaN];
    const profiles = Array.from({ length: 400 }, (_, index) => {
      const attributes: Record<string, unknown> = JSON.parse(
        `{"__proto__": ${JSON.stringify(index % 3 === 0 ? `u${index}@example.com` : ' ')}}`,
      ) as Record<string, unknown>;
      attributes.born = values[index % values.length];
      attributes.first = values[(index + 1) % values.length];
      attributes.id = index % 5 === 0 ? undefined : `ext-${index}\u0000\ud800`;
      if (index % 7 === 0) attributes.country = 'Deutschland';
      attributes.marketing_consent = index % 11 === 0 ? values[index % values.length] : 'yes';
      return { key: `p-${index}`, attributes };
    });
    const options = { ...OPTIONS, keyIdentifier: 'EMAIL', defaultCountry: 'FR' } as const;
    const built = await poolOf({ threads: 1, minPageSize: 1 }).build({ profiles, mapping, options });
    const inline = buildRows(profiles, mapping, options);
    expect(JSON.stringify(built)).toBe(JSON.stringify(inline));
    expect(inline.rows.length).toBeGreaterThan(40);
  });

  it('builds small pages inline and with 0 threads, with the same result', async () => {
    const profiles = Array.from({ length: 300 }, (_, index) => generateDemoProfile(index, 17));
    const expected = buildRows(profiles, DEMO_MAPPING, OPTIONS);
    expect(await poolOf({ threads: 0 }).build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS })).toEqual(expected);
    expect(await poolOf({ threads: 1 }).build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS })).toEqual(expected);
  });

  it('rejects the page of a thread that dies, without hanging, and builds the next page on a new thread', async () => {
    // A thread whose heap a page overflows dies with ERR_WORKER_OUT_OF_MEMORY, as a real crash would.
    const pool = poolOf({ threads: 1, minPageSize: 1, resourceLimits: { maxOldGenerationSizeMb: 48 } });
    const huge = 'x'.repeat(4_000_000);
    const heavy = Array.from({ length: 16 }, (_, index) => ({
      key: `p-${index}`,
      attributes: { email: `${huge}${index}@example.com`, first_name: huge, last_name: huge },
    }));
    const failure = await pool.build({ profiles: heavy, mapping: DEMO_MAPPING, options: OPTIONS }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(RowBuilderError);
    expect(failure).toMatchObject({ code: RowBuilderFailure.THREAD_CRASHED, detail: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect((failure as RowBuilderError).message).not.toContain('xxxx');

    const profiles = Array.from({ length: 500 }, (_, index) => generateDemoProfile(index, 19));
    expect(await pool.build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS })).toEqual(
      buildRows(profiles, DEMO_MAPPING, OPTIONS),
    );
  });

  it('rejects queued and running pages on close, and refuses pages after', async () => {
    const pool = poolOf({ threads: 1, minPageSize: 1, inlineWhenBusy: false });
    const profiles = Array.from({ length: 2_000 }, (_, index) => generateDemoProfile(index, 23));
    const running = pool.build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS });
    const queued = pool.build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS });
    const outcomes = Promise.allSettled([running, queued]);
    await pool.close();
    for (const outcome of await outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: RowBuilderFailure.POOL_CLOSED } });
    }
    await expect(pool.build({ profiles, mapping: DEMO_MAPPING, options: OPTIONS })).rejects.toBeInstanceOf(
      RowBuilderError,
    );
  });
});
