import { buildRows } from '../../src/domain/canonical-row.js';
import type { AttributeMapping } from '../../src/domain/mapping.js';
import type { KeyIdentifier } from '../../src/domain/mapping.js';
import { demoKey } from '../../src/demo/demo-profiles.js';
import type { Db } from '../../src/store/db.js';

/** The 8 keys the benchmark maps: the EMAIL, PHONE, FN, LN, ZIP, CT, ST, COUNTRY. */
export const BENCH_MAPPING: AttributeMapping = {
  EMAIL: { attribute: 'email' },
  PHONE: { attribute: 'phone' },
  FN: { attribute: 'first_name' },
  LN: { attribute: 'last_name' },
  ZIP: { attribute: 'zip' },
  CT: { attribute: 'city' },
  ST: { attribute: 'state' },
  COUNTRY: { attribute: 'country' },
};
export const BENCH_ROW_OPTIONS = { keyIdentifier: 'EMAIL' as KeyIdentifier, defaultCountry: 'US' };

export interface SampledRows {
  /** Profiles sampled (in the segment, or outside it for leavers). */
  profiles: number;
  /** Their canonical rows as JSON text of the cells, as the sandbox's members route renders them. */
  rows: string[];
}

function toRows(profiles: Array<Record<string, unknown> & { key: string }>): SampledRows {
  const built = buildRows(
    profiles.map((p) => ({ key: p.key, attributes: p })),
    BENCH_MAPPING,
    BENCH_ROW_OPTIONS,
  );
  return { profiles: profiles.length, rows: built.rows.map((r) => JSON.stringify(r.cells)) };
}

/** Expected rows of up to `n` random members of the `all` segment (demo keys drawn from 1..maxIndex). */
export async function sampleMembers(db: Db, n: number, maxIndex: number, seed: number): Promise<SampledRows> {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state;
  };
  const keys = new Set<string>();
  while (keys.size < Math.min(n, maxIndex)) keys.add(demoKey(1 + (next() % maxIndex)));
  const profiles = await db.query<Record<string, unknown> & { key: string }>(
    `SELECT p.* FROM demo_profiles p
     WHERE p.key = ANY($1) AND EXISTS (SELECT 1 FROM demo_segment_members m WHERE m.segment = 'all' AND m.profile_key = p.key)`,
    [[...keys]],
  );
  return toRows(profiles);
}

/** Rows of up to `n` profiles outside the `all` segment (after a change: leavers, whose rows did not change). */
export async function sampleLeavers(db: Db, n: number): Promise<SampledRows> {
  const profiles = await db.query<Record<string, unknown> & { key: string }>(
    `SELECT p.* FROM demo_profiles p
     WHERE NOT EXISTS (SELECT 1 FROM demo_segment_members m WHERE m.segment = 'all' AND m.profile_key = p.key)
     LIMIT $1`,
    [n],
  );
  return toRows(profiles);
}
