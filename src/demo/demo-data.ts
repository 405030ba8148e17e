import { seedDemoProfiles } from './demo-seed.js';
import type { Db } from '../store/index.js';

/** How many demo profiles the tables hold, or undefined when they are missing. */
export async function demoProfileCount(db: Db): Promise<number | undefined> {
  const [tables] = await db.query<{ profiles: string | null; members: string | null }>(
    `SELECT to_regclass('demo_profiles')::text AS profiles, to_regclass('demo_segment_members')::text AS members`,
  );
  if (!tables?.profiles || !tables.members) return undefined;
  const [row] = await db.query<{ n: string | number }>('SELECT count(*)::int8 AS n FROM demo_profiles');
  return Number(row?.n ?? 0);
}

/** Seeds the demo tables only when they are missing or hold another number of profiles. */
export async function ensureDemoProfiles(
  db: Db,
  profiles: number,
  log: (line: string) => void,
): Promise<{ seeded: boolean; seconds: number }> {
  const existing = await demoProfileCount(db);
  if (existing === profiles) {
    log(`[demo] ${profiles.toLocaleString('en-US')} demo profiles already seeded`);
    return { seeded: false, seconds: 0 };
  }
  log(`[demo] seeding ${profiles.toLocaleString('en-US')} demo profiles`);
  const started = performance.now();
  await seedDemoProfiles(db, {
    profiles,
    onPhase: (phase, seconds) => log(`[demo]   ${phase} in ${seconds.toFixed(1)} s`),
  });
  return { seeded: true, seconds: (performance.now() - started) / 1000 };
}
