import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/server.js';
import { loadOrCreateLocalSecrets } from '../../src/start/local-secrets.js';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('DATA_DIR and the files in it are the owner’s alone', () => {
  const dirs: string[] = [];
  const fresh = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sec-private-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('creates DATA_DIR 0700 (and tightens one an older version left 0755), the secrets file 0600', async () => {
    const created = join(await fresh(), 'data');
    await loadOrCreateLocalSecrets(created);
    expect(await modeOf(created)).toBe(0o700);
    expect(await modeOf(join(created, 'local-secrets.json'))).toBe(0o600);

    const old = join(await fresh(), 'old');
    await mkdir(old, { mode: 0o755 });
    expect(await modeOf(old)).toBe(0o755);
    await loadOrCreateLocalSecrets(old);
    expect(await modeOf(old)).toBe(0o700);
  });

  it('saves the sandbox state file 0600', async () => {
    const statePath = join(await fresh(), 'state', 'sandbox-state.bin');
    const sandbox = await startSandbox({ port: 0, statePath });
    await sandbox.close();
    expect(await modeOf(statePath)).toBe(0o600);
    expect(await modeOf(join(statePath, '..'))).toBe(0o700);
  });
});
