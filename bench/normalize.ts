/**
 * Normalisation throughput on one thread: rows/s where a row = normalise + hash + lay out in the canonical schema,
 * over generated messy profiles. Prints min/median/max of several runs, the targets, and what each fast path is
 * worth (by turning it off). Run: npm run bench:normalize [-- --rows 100000 --runs 5]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildRows, type EncoderTuning } from '../src/domain/canonical-row.js';
import type { AttributeMapping } from '../src/domain/mapping.js';
import { normalizePhone, normalizePhoneByParsing } from '../src/domain/phone.js';
import { sha256Hex, sha256HexByStream } from '../src/domain/sha256.js';
import { generateProfile, type SyntheticProfile } from '../src/domain/synthetic-profiles.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);

const EMAIL_ONLY: AttributeMapping = { EMAIL: { attribute: 'email' } };
const TEN_KEYS: AttributeMapping = {
  EMAIL: { attribute: 'email' },
  PHONE: { attribute: 'phone' },
  FN: { attribute: 'first_name' },
  LN: { attribute: 'last_name' },
  GEN: { attribute: 'gender' },
  DOB: { attribute: 'date_of_birth' },
  CT: { attribute: 'city' },
  ST: { attribute: 'state' },
  ZIP: { attribute: 'zip' },
  COUNTRY: { attribute: 'country' },
};
const OPTIONS = { keyIdentifier: 'EMAIL', defaultCountry: 'US', consentAttribute: 'marketing_consent' } as const;

interface Figures {
  min: number;
  median: number;
  max: number;
}

function measure(label: string, runOnce: () => number): Figures {
  runOnce(); // warm-up: JIT, and the caches a long export would have warm after its first pages
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const count = runOnce();
    rates.push(count / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  const figures = { min: rates[0]!, median: rates[Math.floor(rates.length / 2)]!, max: rates[rates.length - 1]! };
  console.log(
    `${label.padEnd(46)} ${fmt(figures.min)} / ${fmt(figures.median)} / ${fmt(figures.max)} rows/s (min/median/max)`,
  );
  return figures;
}

const fmt = (rate: number): string => Math.round(rate).toLocaleString('en-US').padStart(10);

function rowsPerRun(profiles: SyntheticProfile[], mapping: AttributeMapping, tuning?: EncoderTuning): () => number {
  return () => {
    // Pages of 10,000, as the upload activity calls it.
    for (let start = 0; start < profiles.length; start += 10_000) {
      buildRows(profiles.slice(start, start + 10_000), mapping, OPTIONS, tuning);
    }
    return profiles.length;
  };
}

console.log(`node ${process.version}, ${ROWS.toLocaleString('en-US')} generated profiles, ${RUNS} runs each\n`);
const profiles = Array.from({ length: ROWS }, (_, index) => generateProfile(index, 11));

const email = measure('email-only rows', rowsPerRun(profiles, EMAIL_ONLY));
const ten = measure('10 mapped keys (13 hashed cells)', rowsPerRun(profiles, TEN_KEYS));
console.log(`\ntarget email-only ≥ 400,000 rows/s: ${email.median >= 400_000 ? 'met' : 'NOT met'} (median)`);
console.log(`target 10-key     ≥  60,000 rows/s: ${ten.median >= 60_000 ? 'met' : 'NOT met'} (median)\n`);

console.log('10 mapped keys, one fast path off at a time:');
measure('  without the low-cardinality caches', rowsPerRun(profiles, TEN_KEYS, { cache: false }));
measure('  with createHash() instead of crypto.hash()', rowsPerRun(profiles, TEN_KEYS, { hash: sha256HexByStream }));
measure('  without the phone fast path', rowsPerRun(profiles, TEN_KEYS, { phone: normalizePhoneByParsing }));
measure(
  '  plain path (all three off)',
  rowsPerRun(profiles, TEN_KEYS, { cache: false, hash: sha256HexByStream, phone: normalizePhoneByParsing }),
);
measure('email-only with createHash()', rowsPerRun(profiles, EMAIL_ONLY, { hash: sha256HexByStream }));

console.log('\nwhere the time goes (per operation, median):');
const emails = profiles.map((p) => String(p.attributes.email ?? '').toLowerCase());
const phones = profiles.flatMap((p) => (p.attributes.phone === undefined ? [] : [String(p.attributes.phone)]));
const perOp = (label: string, items: number, run: () => void): void => {
  const figures = measure(label, () => {
    run();
    return items;
  });
  console.log(`${''.padEnd(46)} ≈ ${(1e9 / figures.median).toFixed(0)} ns each`);
};
perOp('  sha256 crypto.hash() of an email', emails.length, () => emails.forEach((e) => sha256Hex(e)));
perOp('  sha256 createHash() of an email', emails.length, () => emails.forEach((e) => sha256HexByStream(e)));
perOp('  phone with fast path (region us)', phones.length, () => phones.forEach((p) => normalizePhone(p, 'us')));
perOp('  phone by full parsing (region us)', phones.length, () =>
  phones.forEach((p) => normalizePhoneByParsing(p, 'us')),
);
