/** The seed of a run of random kills (for ../seeded-random.ts): FAULTS_SEED when given (to replay a run), else the clock. */
export function faultSeed(): number {
  const given = Number(process.env.FAULTS_SEED);
  return Number.isInteger(given) && given > 0 ? given : Date.now() % 1_000_000_007;
}
