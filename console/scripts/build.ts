import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { writeApiTypes } from './api-types.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `npm run build:console` (and `npm ci`'s prepare): API types from the routes, then the bundle in console/dist. */
await writeApiTypes();
await build({ root, configFile: `${root}/vite.config.ts` });
console.error(`[console] built into ${root}dist`);
