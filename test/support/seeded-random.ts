/** Numbers in [0, 1) from a seed: the same seed gives the same cases on every run, so a failure can be replayed. */
export type Random = () => number;

/**
 * mulberry32: small and well mixed in every bit, unlike a bare linear congruential step, whose low bits repeat with
 * a short period (the lowest one alternates), so `state % n` would give patterned cases.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number from 0 to n - 1. */
export const randomInt = (random: Random, n: number): number => Math.floor(random() * n);

export const pick = <T>(random: Random, items: readonly T[]): T => items[randomInt(random, items.length)]!;

/** `count` decimal digits. */
export function randomDigits(random: Random, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(randomInt(random, 10));
  return out;
}
