import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The console is served by the API under /console (src/api/routes/console.ts), built into console/dist. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
});
