/**
 * How big the fault suite runs, chosen in one place. The short form is what `npm test` runs in CI (a few
 * minutes on a 2-core machine); `FAULTS_FULL=1` (`npm run test:faults`) runs the figures issue #16 asks for.
 */
export const FULL = process.env.FAULTS_FULL === '1';

export const scale = FULL
  ? {
      /** Profiles in each world (segment 'all'). */
      profiles: 12_000,
      /** Export runs per mode in the worker-crash test. */
      crashRunsPerMode: 3,
      /** SIGKILLs of the worker per run. */
      killsPerRun: 3,
      /** Throttle block: minutes, so the wait comes from `estimated_time_to_regain_access` alone. */
      throttleBlockMs: 120_000,
      /** Transient-error storm: runs of each kind. */
      stormRuns: 1,
      /** How long the database stays cut off. */
      dbOutageMs: 10_000,
      testTimeoutMs: 40 * 60_000,
    }
  : {
      profiles: 4_000,
      crashRunsPerMode: 1,
      killsPerRun: 1,
      throttleBlockMs: 3_000,
      stormRuns: 1,
      dbOutageMs: 4_000,
      testTimeoutMs: 5 * 60_000,
    };

/** Rows per page: small, so a few thousand profiles make enough pages for a kill to land mid-run. */
export const PAGE_SIZE = 250;
