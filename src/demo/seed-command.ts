import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { openDb } from '../store/index.js';
import { changeSegmentShare, seedDemoProfiles } from './demo-seed.js';

export const SEED_USAGE = `Usage: audience-export seed [--profiles N] [--seed S] [--change-share X [--segment NAME]]

  --profiles N      (re)create demo_profiles and demo_segment_members with N profiles (default 100000)
  --seed S          random seed: the same seed gives the same data (default 1)
  --change-share X  change a share X (0 < X <= 1) of a segment: a third leave, a third join, a third change
                    e-mail. Alone, it changes the existing demo data; with --profiles, it seeds first.
  --segment NAME    the segment --change-share changes (default all)

Writes to SOURCE_DATABASE_URL, else DATABASE_URL, else the embedded database in DATA_DIR.`;

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got '${value}'`);
  return n;
}

class UsageError extends Error {}

export async function runSeedCommand(args: string[], config: Config): Promise<number> {
  let options;
  try {
    const { values } = parseArgs({
      args,
      options: {
        profiles: { type: 'string' },
        seed: { type: 'string' },
        'change-share': { type: 'string' },
        segment: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(SEED_USAGE);
      return 0;
    }
    const share = values['change-share'] === undefined ? undefined : Number(values['change-share']);
    if (share !== undefined && !(share > 0 && share <= 1))
      throw new UsageError(`--change-share must be a number in (0, 1], got '${values['change-share']}'`);
    options = {
      profiles: values.profiles === undefined && share !== undefined ? undefined : positiveInt('profiles', values.profiles, 100_000),
      seed: positiveInt('seed', values.seed, 1),
      share,
      segment: values.segment ?? 'all',
    }; // prettier-ignore
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${SEED_USAGE}`);
    return 2;
  }

  const db = await openDb({
    url: config.database.sourceUrl ?? config.database.url,
    dataDir: config.database.dataDir,
    applicationName: 'audience-export seed',
  });
  try {
    if (options.profiles !== undefined) {
      console.log(
        `Seeding ${options.profiles.toLocaleString('en')} demo profiles (seed ${options.seed}) into ${db.kind}...`,
      );
      const started = performance.now();
      const result = await seedDemoProfiles(db, {
        profiles: options.profiles,
        seed: options.seed,
        onPhase: (phase, seconds) => console.log(`  ${phase.padEnd(8)} ${seconds.toFixed(1)} s`),
      });
      const segments = Object.entries(result.members).map(([s, n]) => `${s} ${n.toLocaleString('en')}`);
      console.log(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s. Segments: ${segments.join(', ')}.`);
    }
    if (options.share !== undefined) {
      const r = await changeSegmentShare(db, { segment: options.segment, share: options.share, seed: options.seed });
      console.log(
        `Changed ${options.share * 100}% of '${r.segment}' (${r.size.toLocaleString('en')} members): ` +
          `${r.left} left, ${r.joined} joined (${r.created} new profiles), ${r.changedEmail} changed e-mail.`,
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}
