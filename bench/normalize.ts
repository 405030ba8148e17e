/**
 * Normalisation throughput on one thread: rows/s where a row = normalise + hash + lay out in the canonical schema,
 * over generated messy profiles. Prints min/median/max of several runs, the targets, and what each fast path is
 * worth (by turning it off); then the row-builder pool (worker threads) on 10,000-row pages, what moving a page
 * to a thread and back costs, and where a page starts to pay. The 1-minute load average is printed beside every
 * figure: on a shared machine, figures taken under load are low. Last, the export's own page path (issue #15): CPU
 * per 10,000 demo profiles of buildRows with the 8-key benchmark mapping, and of encoding their snapshot cells.
 * Run: npm run bench:normalize [-- --rows 100000 --runs 5 --threads 2]
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildRows, type EncoderTuning } from '../src/domain/canonical-row.js';
import { normalizeCountry } from '../src/domain/location.js';
import type { AttributeMapping } from '../src/domain/mapping.js';
import { normalizePhone, normalizePhoneByFastPath, normalizePhoneByParsing } from '../src/domain/phone.js';
import { sha256Hex } from '../src/domain/sha256.js';
import { sha256HexByStream } from '../test/support/plain-paths.js';
import { DEMO_MAPPING, generateDemoProfile, type DemoProfile } from '../src/demo/demo-profiles.js';
import { encodeCells } from '../src/store/snapshot-codec.js';
import { toThreadTask } from '../src/row-builder/messages.js';
import { RowBuilderPool } from '../src/row-builder/pool.js';
import { BENCH_MAPPING, BENCH_ROW_OPTIONS } from './lib/expected-sample.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const DEFAULT_THREADS = Math.max(1, availableParallelism() - 1);
const POOL_THREADS = [...new Set([1, DEFAULT_THREADS, Number(values.threads ?? availableParallelism())])];

const EMAIL_ONLY: AttributeMapping = { EMAIL: { attribute: 'email' } };
const OPTIONS = { keyIdentifier: 'EMAIL', defaultCountry: 'US', consentAttribute: 'marketing_consent' } as const;

interface Figures {
  min: number;
  median: number;
  max: number;
}

async function measure(label: string, runOnce: () => number | Promise<number>): Promise<Figures> {
  await runOnce(); // warm-up: JIT, and the caches a long export would have warm after its first pages
  const rates: number[] = [];
  const loads: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const count = await runOnce();
    rates.push(count / ((performance.now() - started) / 1000));
    loads.push(loadavg()[0]!);
  }
  rates.sort((a, b) => a - b);
  const figures = { min: rates[0]!, median: rates[Math.floor(rates.length / 2)]!, max: rates[rates.length - 1]! };
  const load = `load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  console.log(
    `${label.padEnd(46)} ${fmt(figures.min)} / ${fmt(figures.median)} / ${fmt(figures.max)} rows/s (min/median/max)  ${load}`,
  );
  return figures;
}

const fmt = (rate: number): string => Math.round(rate).toLocaleString('en-US').padStart(10);

function rowsPerRun(profiles: DemoProfile[], mapping: AttributeMapping, tuning?: EncoderTuning): () => number {
  return () => {
    // Pages of 10,000, as the upload activity calls it.
    for (let start = 0; start < profiles.length; start += 10_000) {
      buildRows(profiles.slice(start, start + 10_000), mapping, OPTIONS, tuning);
    }
    return profiles.length;
  };
}

console.log(`node ${process.version}, ${ROWS.toLocaleString('en-US')} generated profiles, ${RUNS} runs each\n`);
const profiles = Array.from({ length: ROWS }, (_, index) => generateDemoProfile(index + 1, 11));

const email = await measure('email-only rows', rowsPerRun(profiles, EMAIL_ONLY));
const ten = await measure('10 mapped keys (13 hashed cells)', rowsPerRun(profiles, DEMO_MAPPING));
console.log(`\ntarget email-only ≥ 400,000 rows/s: ${email.median >= 400_000 ? 'met' : 'NOT met'} (median)`);
console.log(`target 10-key     ≥  60,000 rows/s: ${ten.median >= 60_000 ? 'met' : 'NOT met'} (median)\n`);

console.log('10 mapped keys, one fast path off at a time:');
await measure('  without the low-cardinality caches', rowsPerRun(profiles, DEMO_MAPPING, { cache: false }));
await measure(
  '  with createHash() instead of crypto.hash()',
  rowsPerRun(profiles, DEMO_MAPPING, { hash: sha256HexByStream }),
);
await measure('  without the phone fast path', rowsPerRun(profiles, DEMO_MAPPING, { phone: normalizePhoneByParsing }));
await measure(
  '  North American phone fast path only',
  rowsPerRun(profiles, DEMO_MAPPING, {
    phone: (text, region) => {
      const fast = normalizePhoneByFastPath(text, region);
      return fast?.startsWith('1') === true ? fast : normalizePhoneByParsing(text, region);
    },
  }),
);
await measure(
  '  plain path (all three off)',
  rowsPerRun(profiles, DEMO_MAPPING, { cache: false, hash: sha256HexByStream, phone: normalizePhoneByParsing }),
);
await measure('email-only with createHash()', rowsPerRun(profiles, EMAIL_ONLY, { hash: sha256HexByStream }));

console.log('\nwhere the time goes (per operation, median):');
const emails = profiles.map((p) => String(p.attributes.email ?? '').toLowerCase());
const phones = profiles.flatMap((p) => (p.attributes.phone === undefined ? [] : [String(p.attributes.phone)]));
const ownCountry = profiles.flatMap((p) =>
  p.attributes.phone === undefined
    ? []
    : [[String(p.attributes.phone), normalizeCountry(String(p.attributes.country ?? '')) || 'us'] as const],
);
const perOp = async (label: string, items: number, run: () => void): Promise<void> => {
  const figures = await measure(label, () => {
    run();
    return items;
  });
  console.log(`${''.padEnd(46)} ≈ ${(1e9 / figures.median).toFixed(0)} ns each`);
};
await perOp('  sha256 crypto.hash() of an email', emails.length, () => emails.forEach((e) => sha256Hex(e)));
await perOp('  sha256 createHash() of an email', emails.length, () => emails.forEach((e) => sha256HexByStream(e)));
await perOp('  phone with fast path (region us)', phones.length, () => phones.forEach((p) => normalizePhone(p, 'us')));
await perOp('  phone by full parsing (region us)', phones.length, () =>
  phones.forEach((p) => normalizePhoneByParsing(p, 'us')),
);
await perOp('  phone with fast paths (own country)', ownCountry.length, () =>
  ownCountry.forEach(([p, region]) => normalizePhone(p, region)),
);
await perOp('  phone by full parsing (own country)', ownCountry.length, () =>
  ownCountry.forEach(([p, region]) => normalizePhoneByParsing(p, region)),
);

console.log(
  `\nrow-builder pool, 10 mapped keys on 10,000-row pages, all pages at once (${availableParallelism()} cores):`,
);
const pages: DemoProfile[][] = [];
for (let start = 0; start < profiles.length; start += 10_000) pages.push(profiles.slice(start, start + 10_000));
const page = { mapping: DEMO_MAPPING, options: OPTIONS };
for (const threads of POOL_THREADS) {
  for (const inlineWhenBusy of [false, true]) {
    const pool = new RowBuilderPool({ threads, minPageSize: 1, inlineWhenBusy });
    const label = `  ${threads} thread${threads === 1 ? '' : 's'}${threads === DEFAULT_THREADS ? ' (default)' : ''}`;
    // Every page at once, as concurrent upload activities would hand them over.
    await measure(`${label}${inlineWhenBusy ? ' + main thread when busy' : ', threads only'}`, async () => {
      await Promise.all(pages.map((profilesOfPage) => pool.build({ profiles: profilesOfPage, ...page })));
      return profiles.length;
    });
    await pool.close();
  }
}

console.log('\nmoving a 10,000-row page to a thread and back, per row:');
const sample = pages[0]!;
const sampleBuilt = buildRows(sample, DEMO_MAPPING, OPTIONS);
const sampleTask = toThreadTask(1, { profiles: sample, ...page });
const sampleJson = JSON.stringify(sampleBuilt);
await perOp(
  '  main: columns of the mapped attributes',
  sample.length,
  () => void toThreadTask(1, { profiles: sample, ...page }),
);
await perOp('  main+thread: structured clone of the columns', sample.length, () => void structuredClone(sampleTask));
await perOp('  (for comparison: clone of the profile objects)', sample.length, () => void structuredClone(sample));
await perOp('  thread: JSON.stringify of the built rows', sample.length, () => void JSON.stringify(sampleBuilt));
await perOp('  main: JSON.parse of the built rows', sample.length, () => void JSON.parse(sampleJson));
await perOp('  (for comparison: clone of the built rows)', sample.length, () => void structuredClone(sampleBuilt));

console.log('\none page at a time, inline vs one thread (ms per page, median of runs):');
const onePool = new RowBuilderPool({ threads: 1, minPageSize: 1, inlineWhenBusy: false });
for (const size of [500, 1_000, 2_000, 5_000, 10_000]) {
  const slice = sample.slice(0, size);
  const timeOf = async (build: () => unknown): Promise<number> => {
    await build();
    const times: number[] = [];
    for (let run = 0; run < RUNS * 4; run++) {
      const started = performance.now();
      await build();
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  };
  const inline = await timeOf(() => buildRows(slice, DEMO_MAPPING, OPTIONS));
  const threaded = await timeOf(() => onePool.build({ profiles: slice, ...page }));
  console.log(
    `  ${String(size).padStart(6)} rows: inline ${inline.toFixed(1).padStart(6)} ms, thread ${threaded.toFixed(1).padStart(6)} ms (main thread free meanwhile)  load ${loadavg()[0]!.toFixed(1)}`,
  );
}
await onePool.close();

console.log('\nthe export page path: 8 keys (BENCH_MAPPING) on demo profiles, CPU ms per 10,000 profiles (median):');
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
// Fresh objects from JSON, as PostgreSQL's jsonb reaches the worker.
const demoPages = Array.from({ length: Math.max(1, Math.floor(ROWS / 10_000)) }, (_, page) =>
  Array.from({ length: 10_000 }, (_, i) => {
    const { key, attributes } = generateDemoProfile(page * 10_000 + i + 1, 7);
    return { key, attributes: JSON.parse(JSON.stringify(attributes)) as Record<string, unknown> };
  }),
);
const buildTimes: number[] = [];
const encodeTimes: number[] = [];
for (let run = 0; run <= RUNS; run++) {
  for (const demoPage of demoPages) {
    const started = cpuMs();
    const built = buildRows(demoPage, BENCH_MAPPING, BENCH_ROW_OPTIONS);
    const builtAt = cpuMs();
    for (const row of built.rows) encodeCells(row.cells);
    // The first run warms the JIT and the caches, as a long export's first pages do.
    if (run > 0) buildTimes.push(builtAt - started);
    if (run > 0) encodeTimes.push(cpuMs() - builtAt);
  }
}
const median = (values: number[]): string => values.sort((a, b) => a - b)[values.length >> 1]!.toFixed(1);
console.log(`  buildRows    ${median(buildTimes).padStart(7)} ms  load ${loadavg()[0]!.toFixed(1)}`);
console.log(`  encodeCells  ${median(encodeTimes).padStart(7)} ms  (the rows built, one call per row)`);
