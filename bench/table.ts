/**
 * Prints one markdown table from the JSON figures of several `npm run bench` runs (e.g. 1M, 3M and 10M), so the
 * README's table and a closing note come from the same runs. Usage:
 *   npm run bench:table -- bench/results/1m.json bench/results/3m.json bench/results/10m.json
 */
import { readFileSync } from 'node:fs';
import type { CpuReading } from './lib/cpu-meter.js';
import type { MachineReference } from './lib/machine-reference.js';
import type { PhaseFigure } from './lib/run-export.js';

interface RunFigures {
  seconds: number;
  phases: Record<string, PhaseFigure>;
  cpu?: CpuReading;
}

interface Figures {
  profiles: number;
  exportSeconds: number;
  exportPhases: Record<string, PhaseFigure>;
  exportCpu?: CpuReading;
  exportCheck?: { countEqual: boolean; sampledFound: number; sampledRows: number };
  refresh: (RunFigures & { available: true; rowsSent: number; mirrorDiffApplied: boolean }) | { available: false };
  seedSeconds?: number;
  preview?: { seconds: number };
  workerPeakRssBytes: number;
  loadAverage: Record<string, string>;
  /** Absent from runs before the bench measured it. */
  machine?: MachineReference;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('Usage: npm run bench:table -- <figures.json> ...');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Figures).sort((a, b) => a.profiles - b.profiles);

const s = (n: number | undefined) => (n === undefined ? '—' : `${n.toFixed(1)} s`);
const millions = (n: number) => `${n / 1e6}M`;
const phase = (phases: Record<string, PhaseFigure>, name: string) => phases[name]?.seconds;
const product = (c: CpuReading | undefined) => (c ? c.worker + c.postgres : undefined);
const perMillion = (c: CpuReading | undefined, profiles: number) => {
  const p = product(c);
  return p === undefined ? '—' : (p / (profiles / 1e6)).toFixed(1);
};
const reference = (m: MachineReference | undefined) =>
  m ? `${m.nodeSeconds.toFixed(2)} / ${m.postgresSeconds.toFixed(2)} s` : '—';
const cpu = (c: CpuReading | undefined) =>
  c ? `${c.worker.toFixed(0)} / ${c.postgres.toFixed(0)} / ${c.sandbox.toFixed(0)}` : '—';

/** The 1-minute load average at the start and the end. */
const load = (start?: string, end?: string) => `${start?.split(' ')[0] ?? '?'}–${end?.split(' ')[0] ?? '?'}`;
const row = (cells: string[]) => console.log(`| ${cells.join(' | ')} |`);
const header = (cells: string[]) => {
  row(cells);
  row(cells.map(() => '---'));
};

console.log('Export (mirror, new audience; seeding is not part of it):\n');
header([
  'profiles',
  'seed (apart)',
  'export wall',
  'validate',
  'freeze',
  'plan',
  'upload',
  'finalise',
  'CPU s worker / PG / sandbox',
  'product CPU per M',
  'worker peak RSS',
  'load',
  'machine Node / PG',
]);
for (const r of runs) {
  row([
    millions(r.profiles),
    s(r.seedSeconds),
    s(r.exportSeconds),
    s(phase(r.exportPhases, 'validating')),
    s(phase(r.exportPhases, 'freezing')),
    s(phase(r.exportPhases, 'planning')),
    s(phase(r.exportPhases, 'uploading')),
    s(phase(r.exportPhases, 'finalising')),
    cpu(r.exportCpu),
    perMillion(r.exportCpu, r.profiles),
    `${Math.round(r.workerPeakRssBytes / 2 ** 20)} MiB`,
    load(r.loadAverage.exportStart, r.loadAverage.exportEnd),
    reference(r.machine),
  ]);
}
console.log('\nRefresh after 1% changed (mirror):\n');
header([
  'profiles',
  'refresh wall',
  'validate',
  'freeze',
  'plan',
  'remove',
  'upload',
  'finalise',
  'rows sent',
  'CPU s worker / PG / sandbox',
  'product CPU',
  'load',
]);
for (const r of runs) {
  const f = r.refresh;
  if (!f.available) {
    row([millions(r.profiles), 'not available', ...Array<string>(10).fill('—')]);
    continue;
  }
  const p = product(f.cpu);
  row([
    millions(r.profiles),
    s(f.seconds),
    s(phase(f.phases, 'validating')),
    s(phase(f.phases, 'freezing')),
    s(phase(f.phases, 'planning')),
    s(phase(f.phases, 'removing')),
    s(phase(f.phases, 'uploading')),
    s(phase(f.phases, 'finalising')),
    f.rowsSent.toLocaleString('en-US'),
    cpu(f.cpu),
    p === undefined ? '—' : `${p.toFixed(1)} s`,
    load(r.loadAverage.refreshStart, r.loadAverage.refreshEnd),
  ]);
}
console.log('\nPreview of the whole segment (10,000 members examined, the segment counted):\n');
header(['profiles', 'preview wall', 'load']);
for (const r of runs)
  row([millions(r.profiles), s(r.preview?.seconds), r.loadAverage.previewStart?.split(' ')[0] ?? '?']);

// The targets of issue #24: wall times (export, refresh, preview) at 10M; CPU per million and peak RSS at every size.
console.log('\nAgainst the targets (#24):\n');
header([
  'profiles',
  'export ≤ 300 s (10M)',
  'product CPU ≤ 25 /M',
  'refresh ≤ 30 s (10M)',
  'preview ≤ 5 s (10M)',
  'RSS ≤ 768 MiB',
]);
const verdict = (value: number | undefined, limit: number, unit: string, applies = true) => {
  if (!applies) return 'n/a';
  if (value === undefined) return '—';
  return value <= limit ? `met (${value.toFixed(1)})` : `missed by ${(value - limit).toFixed(1)} ${unit}`;
};
for (const r of runs) {
  const tenM = r.profiles >= 10_000_000;
  const p = product(r.exportCpu);
  row([
    millions(r.profiles),
    verdict(r.exportSeconds, 300, 's', tenM),
    verdict(p === undefined ? undefined : p / (r.profiles / 1e6), 25, 'core-s/M'),
    verdict(r.refresh.available ? r.refresh.seconds : undefined, 30, 's', tenM),
    verdict(r.preview?.seconds, 5, 's', tenM),
    verdict(r.workerPeakRssBytes / 2 ** 20, 768, 'MiB'),
  ]);
}
