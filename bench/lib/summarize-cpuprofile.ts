/**
 * Top self-time costs of a V8 .cpuprofile (from `node --cpu-prof`), by function and location.
 * Usage: tsx bench/lib/summarize-cpuprofile.ts FILE.cpuprofile [--top 10]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Cost {
  name: string;
  location: string;
  selfMs: number;
  share: number;
}

/** Self time per function (summed over every node of that function), largest first. */
export function selfTimes(profile: CpuProfile): { totalMs: number; costs: Cost[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // A sample's time is the delta to the next sample.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? 0));
  }
  const totals = new Map<string, { name: string; location: string; us: number }>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    const location = frame.url ? `${shorten(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${location}`;
    const t = totals.get(key) ?? { name, location, us: 0 };
    t.us += us;
    totals.set(key, t);
    totalUs += us;
  }
  const costs = [...totals.values()]
    .sort((a, b) => b.us - a.us)
    .map((t) => ({ name: t.name, location: t.location, selfMs: t.us / 1000, share: totalUs ? t.us / totalUs : 0 }));
  return { totalMs: totalUs / 1000, costs };
}

function shorten(url: string): string {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) return u.slice(nm + 'node_modules/'.length);
  const src = u.search(/\/(src|bench|test)\//);
  return src >= 0 ? u.slice(src + 1) : u;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '10' } },
  });
  const file = positionals[0];
  if (!file) {
    console.error('Usage: tsx bench/lib/summarize-cpuprofile.ts FILE.cpuprofile [--top 10]');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { totalMs, costs } = selfTimes(profile);
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const idle = costs.filter((c) => c.name === '(idle)').reduce((n, c) => n + c.selfMs, 0);
  console.log(`${file}: ${(wallMs / 1000).toFixed(1)} s sampled, ${((totalMs - idle) / 1000).toFixed(1)} s busy`);
  console.log('  self ms   share  function  (location)');
  for (const c of costs.filter((x) => x.name !== '(idle)').slice(0, Number(values.top))) {
    console.log(
      `  ${c.selfMs.toFixed(0).padStart(7)}  ${(c.share * 100).toFixed(1).padStart(5)}%  ${c.name}  (${c.location})`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
