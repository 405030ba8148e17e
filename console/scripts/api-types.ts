import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { openApiDocument } from '../../src/api/openapi-document.js';

/** Generated, not committed: the console's API types, regenerated from the routes before every build and check. */
export const API_TYPES_FILE = fileURLToPath(new URL('../src/api/openapi.d.ts', import.meta.url));

const HEADER =
  '// Generated from the API routes by console/scripts/api-types.ts: do not edit (npm run build:console).\n';

/** Writes the console's API types from the current routes; unchanged content is not rewritten (tsc, vite). */
export async function writeApiTypes(): Promise<boolean> {
  const ast = await openapiTS(JSON.stringify(await openApiDocument()));
  const text = HEADER + astToString(ast);
  const old = await readFile(API_TYPES_FILE, 'utf8').catch(() => '');
  if (old === text) return false;
  await mkdir(dirname(API_TYPES_FILE), { recursive: true });
  await writeFile(API_TYPES_FILE, text);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await writeApiTypes();
