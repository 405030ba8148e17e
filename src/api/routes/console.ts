import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:console` (run by `npm ci`, `npm test`) puts the operators' web console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));

/**
 * The console is static files calling this same API from the browser with the operator's API key (kept in the
 * tab's session storage, never in a cookie), so the page itself needs no key. Scripts and styles come only from
 * here; the API and Facebook's dialog are reached by fetch and navigation.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Console not built</title></head>
<body><h1>The console is not built</h1>
<p>Run <code>npm run build:console</code> (it runs with <code>npm ci</code>), then reload this page.</p></body></html>`;

/** `/console/...`: every path answers the console's page (it routes in the browser); its files are under assets. */
export const consoleRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, {
    root: `${CONSOLE_DIST}assets`,
    prefix: '/console/assets/',
    decorateReply: false,
    // File names carry a content hash: a new build is new names.
    immutable: true,
    maxAge: '365d',
    setHeaders: (reply) => void reply.header('x-content-type-options', 'nosniff'),
  });

  const page = async () => readFile(`${CONSOLE_DIST}index.html`, 'utf8').catch(() => NOT_BUILT);
  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/', 301));
  app.get('/console/*', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store')
      .send(await page()),
  );
};
