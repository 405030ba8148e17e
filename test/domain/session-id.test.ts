import { describe, expect, it } from 'vitest';
import { newSessionId } from '../../src/domain/session-id.js';

describe('newSessionId', () => {
  it('is a positive integer within the safe range, different each time', () => {
    const ids = Array.from({ length: 1000 }, newSessionId);
    for (const id of ids) {
      expect(Number.isSafeInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThanOrEqual(2 ** 48);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // 48 random bits: across 1000 draws some must exceed 2^40 (chance of none ≈ 1000 · 2^-8 … effectively 0).
    expect(ids.some((id) => id > 2 ** 40)).toBe(true);
  });
});
