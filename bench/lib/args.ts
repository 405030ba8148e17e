import { parseArgs } from 'node:util';
import { parseLatency } from '../../src/sandbox/command.js';

export interface BenchOptions {
  profiles: number;
  latency: string;
  pageConcurrency: number;
  keys: number;
  out: string;
  cpuProf: boolean;
  skipSeed: boolean;
  /** Profiles checked exactly against the sandbox audience. */
  sample: number;
  /** Give up on a run whose phase and page count have not moved for this long. */
  stallSeconds: number;
  /** Row-builder threads of the worker (WORKER_HASH_THREADS); undefined leaves the worker's default (cores - 2). */
  hashThreads?: number;
}

export const USAGE =
  'Usage: npm run bench -- [--profiles 10000000] [--latency-ms 300-1500] [--page-concurrency 8] [--keys 8] ' +
  '[--out bench/results/latest.json] [--cpu-prof] [--skip-seed] [--sample 2000] [--stall-s 300] [--hash-threads N]';

const positiveInt = (name: string, value: string): number => {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${value}'`);
  return n;
};

const nonNegativeInt = (name: string, value: string): number => (value.trim() === '0' ? 0 : positiveInt(name, value));

export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      profiles: { type: 'string', default: '10000000' },
      'latency-ms': { type: 'string', default: '300-1500' },
      'page-concurrency': { type: 'string', default: env.EXPORT_PAGE_CONCURRENCY ?? '8' },
      keys: { type: 'string', default: '8' },
      out: { type: 'string', default: 'bench/results/latest.json' },
      'cpu-prof': { type: 'boolean', default: false },
      'skip-seed': { type: 'boolean', default: false },
      sample: { type: 'string', default: '2000' },
      'stall-s': { type: 'string', default: '300' },
      'hash-threads': { type: 'string', default: env.WORKER_HASH_THREADS },
    },
  });
  parseLatency(values['latency-ms']);
  const keys = positiveInt('keys', values.keys);
  if (keys !== 8) throw new Error('--keys: only 8 (EMAIL, PHONE, FN, LN, ZIP, CT, ST, COUNTRY) is measured so far');
  return {
    profiles: positiveInt('profiles', values.profiles),
    latency: values['latency-ms'],
    pageConcurrency: positiveInt('page-concurrency', values['page-concurrency']),
    keys,
    out: values.out,
    cpuProf: values['cpu-prof'],
    skipSeed: values['skip-seed'],
    sample: positiveInt('sample', values.sample),
    stallSeconds: positiveInt('stall-s', values['stall-s']),
    ...(values['hash-threads'] === undefined
      ? {}
      : { hashThreads: nonNegativeInt('hash-threads', values['hash-threads']) }),
  };
}
