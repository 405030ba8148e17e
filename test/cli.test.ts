import { execFile, spawn } from 'node:child_process';
import { freePort } from '../src/ports.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../bin/audience-export.mjs');

/** Every option each command's parser takes; `--help` must describe each on a line of its own. */
const OPTIONS: Record<string, string[]> = {
  start: [],
  api: [],
  worker: [],
  sandbox: ['--port', '--host', '--config', '--latency-ms', '--quiet'],
  seed: ['--profiles', '--seed', '--change-share', '--segment'],
  demo: ['--profiles'],
  export: ['--destination', '--follow', '--api-url', '--api-key'],
  exports: ['--destination', '--limit', '--json', '--api-url', '--api-key'],
};

async function help(args: string[]): Promise<{ code: number; stdout: string }> {
  // A configuration that would stop every command: help must not read it.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, FACEBOOK_APP_SECRET: 'short' };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout };
  } catch (err) {
    const failed = err as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('audience-export <command> --help', () => {
  it.each(Object.entries(OPTIONS))(
    '%s --help prints its own usage and describes every option',
    async (name, options) => {
      const { code, stdout } = await help([name, '--help']);
      expect(code).toBe(0);
      expect(stdout.startsWith(`Usage: audience-export ${name}`)).toBe(true);
      for (const option of options) expect(stdout).toMatch(new RegExp(`^ {2}${option}\\b.*\\S`, 'm'));
      if (options.length === 0) expect(stdout).toMatch(/No options: configuration comes from the environment/);
    },
  );

  it('help <command> is the same, and the command list points to it', async () => {
    expect((await help(['help', 'seed'])).stdout).toBe((await help(['seed', '-h'])).stdout);
    const list = await help(['--help']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^Commands:/m);
    expect(list.stdout).toContain("'audience-export <command> --help'");
    expect((await help(['nope', '--help'])).code).toBe(2);
  });
});

describe('audience-export sandbox', () => {
  it('listens on SANDBOX_PORT when no --port is given', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'sandbox', '--quiet'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SANDBOX_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
      });
      expect(banner).toContain(`listening on http://127.0.0.1:${port}`);
      expect((await fetch(`http://127.0.0.1:${port}/__sandbox/fixtures`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
