import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * Where a running `start` serves its API, so the export CLI on the same machine needs no flags: written to
 * `DATA_DIR/local-api.json` (0600) once the API listens, removed when `start` stops. It holds no secret: the key
 * stays in local-secrets.json, and `localKey` says whether the API accepts it (not when API_KEYS was given).
 */
export interface LocalApi {
  url: string;
  /** The `start` process; a file whose process is gone is stale (a `start` that was killed). */
  pid: number;
  localKey: boolean;
}

export const LOCAL_API_FILE = 'local-api.json';

const pathIn = (dataDir: string) => join(resolve(dataDir), LOCAL_API_FILE);

export async function writeLocalApi(dataDir: string, api: LocalApi): Promise<void> {
  const path = pathIn(dataDir);
  await writeFile(path, `${JSON.stringify(api, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Removes the file if it is still this process's (a second `start` on the same DATA_DIR may have replaced it). */
export async function removeLocalApi(dataDir: string, pid = process.pid): Promise<void> {
  if ((await readFileOf(dataDir))?.pid === pid) await rm(pathIn(dataDir), { force: true });
}

/** The API of a `start` running on this DATA_DIR, or undefined when none is (no file, or its process is gone). */
export async function readLocalApi(dataDir: string): Promise<LocalApi | undefined> {
  const api = await readFileOf(dataDir);
  return api && isRunning(api.pid) ? api : undefined;
}

async function readFileOf(dataDir: string): Promise<LocalApi | undefined> {
  let text: string;
  try {
    text = await readFile(pathIn(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const v = JSON.parse(text) as Partial<LocalApi> | null;
  return typeof v?.url === 'string' && typeof v.pid === 'number' && typeof v.localKey === 'boolean'
    ? { url: v.url, pid: v.pid, localKey: v.localKey }
    : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only asks whether the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
