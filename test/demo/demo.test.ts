import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../bin/audience-export.mjs');
const PROFILES = 2000;

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Only what finds the tools: no DATABASE_URL, TEMPORAL_ADDRESS or FACEBOOK_* leaks in from the test run. */
function cleanEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { DATA_DIR: dataDir };
  for (const name of ['PATH', 'HOME', 'XDG_CACHE_HOME', 'TEMPORAL_CLI_PATH']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

/** Runs `audience-export demo` as a user would, with its own data folder and no Facebook or Temporal configured. */
function runDemo(dataDir: string): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'demo', '--profiles', String(PROFILES)], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        XDG_CACHE_HOME: process.env.XDG_CACHE_HOME,
        DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A figure of the report line starting with `label` (thousands separators removed). */
function figure(report: string, label: string, index = 0): number {
  const line = report.split('\n').find((l) => l.trimStart().startsWith(label));
  if (!line) throw new Error(`no '${label}' line in report:\n${report}`);
  const numbers = line.slice(line.indexOf(label) + label.length).match(/\d[\d,]*/g) ?? [];
  const value = numbers[index];
  if (value === undefined) throw new Error(`no figure ${index} on '${line}'`);
  return Number(value.replaceAll(',', ''));
}

describe('audience-export demo', () => {
  let dataDir: string;
  let first: DemoRun;
  let second: DemoRun;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'audience-export-demo-'));
    first = await runDemo(dataDir);
    second = await runDemo(dataDir);
  }, 480_000);

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exports the seeded segment to a new sandbox audience and reports it', () => {
    expect(first.code, first.stderr).toBe(0);
    const report = first.stdout;
    expect(report).toMatch(/Export completed \(mirror mode\)/);
    expect(figure(report, 'segment size')).toBe(PROFILES);
    const sent = figure(report, 'sent');
    const dropped = figure(report, 'dropped');
    expect(sent).toBeGreaterThan(PROFILES * 0.8);
    expect(sent + dropped).toBe(PROFILES);
    expect(figure(report, 'sent', 1)).toBe(sent); // Meta received every row sent
    expect(report).toMatch(/dropped\s+\d+ \(key_identifier_missing \d+\)/);
    expect(figure(report, 'removed')).toBe(0);
    // Meta's estimate is a range around the member count (rounded to two significant digits).
    const lower = figure(report, 'audience size');
    const upper = figure(report, 'audience size', 1);
    expect(lower).toBeLessThanOrEqual(sent);
    expect(upper).toBeGreaterThanOrEqual(sent);
    expect(report).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/export%3Aact_/);
    expect(first.stderr).toMatch(/seeding 2,000 demo profiles/);
    // The console: live while the demo runs, and where `start` serves it afterwards (same key, from DATA_DIR).
    const key = /\[demo\] console \(while the demo runs\): http:\/\/127\.0\.0\.1:\d+\/console\/#key=(\S+)/.exec(
      first.stderr,
    )?.[1];
    expect(key).toBeDefined();
    expect(report).toContain(`run \`npm start\` and open http://127.0.0.1:8080/console/#key=${key}`);
    expect(first.stderr).toMatch(/done\s+\[#+\] 100%/);
  });

  it('sets a daily schedule and triggers it once: the scheduled mirror refresh completes, named in the Temporal UI', () => {
    for (const run of [first, second]) {
      const report = run.stdout.slice(run.stdout.indexOf('Scheduled refresh'));
      expect(report).toMatch(/^Scheduled refresh completed \(daily at 06:00 UTC, triggered once now\)/);
      // Right after the export, a mirror refresh of unchanged profiles has nothing to send.
      expect(figure(report, 'sent')).toBe(0);
      expect(figure(report, 'removed')).toBe(0);
      expect(report).toMatch(/schedule\s+export-schedule:[0-9a-f-]{36}/);
      expect(report).toMatch(
        /Temporal UI\s+http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/schedules\/export-schedule%3A/,
      );
    }
  });

  it('runs again as a mirror refresh of the same audience that sends nothing new', () => {
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/demo profiles already seeded/);
    expect(second.stderr).toMatch(/reusing destination/);
    const audience = /audience\s+(\d+) in act_/.exec(first.stdout)?.[1];
    expect(audience).toBeDefined();
    expect(second.stdout).toContain(`${audience} in act_`);
    expect(second.stdout).toMatch(/Export completed \(mirror mode\)/);
    expect(figure(second.stdout, 'segment size')).toBe(PROFILES);
    expect(figure(second.stdout, 'sent')).toBe(0);
    expect(figure(second.stdout, 'removed')).toBe(0);
    // The sandbox kept the members across the restart: the bounds still cover the first run's rows.
    expect(figure(second.stdout, 'audience size', 1)).toBeGreaterThanOrEqual(figure(first.stdout, 'sent'));
  });

  it('refuses a bad --profiles with exit code 2', async () => {
    const result = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'demo', '--profiles', 'lots'], {
        env: cleanEnv(dataDir),
        stdio: 'ignore',
      });
      child.on('close', resolve);
    });
    expect(result).toBe(2);
  });
});
