import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/domain/bounded-cache.js';

describe('BoundedCache', () => {
  it('drops the oldest entry first and never holds more than its bound', () => {
    const cache = new BoundedCache<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd', 'e'].entries()) cache.set(key, i);
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((key) => cache.get(key))).toEqual([undefined, undefined, 2, 3, 4]);
  });

  it('keeps the place of a key set again, so the bound and the order hold', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('a', 2);
    cache.set('b', 3);
    expect([cache.get('a'), cache.get('b'), cache.size]).toEqual([2, 3, 2]);
    cache.set('c', 4); // 'a' is still the oldest
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 3, 4]);
  });

  it('holds exactly the last maxEntries keys of a long stream of new keys', () => {
    const cache = new BoundedCache<number>(1000);
    for (let i = 0; i < 25_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(1000);
    expect(cache.get('k23999')).toBeUndefined();
    expect(cache.get('k24000')).toBe(24_000);
    expect(cache.get('k24999')).toBe(24_999);
  });

  it('evicts in constant time once full (a Map-order eviction walked every deleted entry)', () => {
    const cache = new BoundedCache<number>(20_000);
    const started = performance.now();
    for (let i = 0; i < 200_000; i++) cache.set(`k${i}`, i);
    // Was about 3 s on a loaded 2-core machine; now about 50 ms. The bound leaves room for a slow CI machine.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses a bound below one', () => {
    expect(() => new BoundedCache(0)).toThrow(RangeError);
  });
});
