import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { ApiDeps } from './deps.js';
import { requiredRole } from './access-policy.js';
import type { ApiKey } from './api-keys.js';
import { createApiKeyCheck, requireRole, UnauthenticatedError } from './auth.js';
import { ProblemError, ProblemKind } from './problem.js';
import { ProblemSchema } from './schemas/common.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The key the request authenticated with; undefined on public routes. */
    apiKey?: ApiKey;
  }
}

/**
 * Routes a browser reaches without our API key: the probe, Facebook's redirect (state-signed), the console's static
 * page (its calls carry the key), and the docs unless API_DOCS_REQUIRE_KEY.
 */
const PUBLIC_PREFIXES = ['/health', '/facebook/callback', '/console'];

const isPublic = (url: string, docsPublic: boolean): boolean => {
  const path = url.split('?', 1)[0] ?? '';
  const open = (p: string) => path === p || path.startsWith(`${p}/`);
  return PUBLIC_PREFIXES.some(open) || (docsPublic && open('/docs'));
};

const MINUTE_MS = 60_000;

/** The deps of a service call whose log lines must say which key called (consent, deletion, erasure, refresh). */
export const asCaller = <D extends Pick<ApiDeps, 'logger'>>(deps: D, request: FastifyRequest): D => ({
  ...deps,
  logger: deps.logger.child({ apiKey: request.apiKey?.name ?? null }),
});

/** A 429 problem; the rate-limit plugin has set Retry-After and the RateLimit headers by then. */
export const tooManyRequests = (detail: string, field = 'headers.authorization'): ProblemError =>
  new ProblemError(429, ProblemKind.tooManyRequests, detail, [{ field, message: 'too many requests' }]);

/** The per-minute limits of the routes that cost the most or invite guessing, keyed by API key (else address). */
export function routeRateLimits(config: Config): Record<'preview' | 'erasure' | 'callback', RateLimitOptions> {
  const { limits } = config.api;
  const perKey = (request: FastifyRequest) => (request.apiKey ? `key:${request.apiKey.name}` : `ip:${request.ip}`);
  const limited = (max: number, what: string, keyGenerator = perKey): RateLimitOptions => ({
    max,
    timeWindow: MINUTE_MS,
    keyGenerator,
    errorResponseBuilder: (_request, context) =>
      tooManyRequests(`At most ${max} ${what} a minute; retry in ${context.after}.`, 'url'),
  });
  return {
    preview: limited(limits.previewsPerMinute, 'previews per API key'),
    erasure: limited(limits.erasuresPerMinute, 'erasure requests per API key'),
    // The login callback is public: one browser, one address.
    callback: limited(limits.callbacksPerMinute, 'login callbacks per address', (r) => `ip:${r.ip}`),
  };
}

/**
 * The headers of the page Facebook's login sends the browser back to: it loads nothing (no script, style or image;
 * the pages carry none), may not be framed, and does not leak its URL (code and state) as a referrer. Not cached:
 * the no-store every answer gets.
 */
export const CALLBACK_PAGE_HELMET: Omit<FastifyHelmetOptions, 'global'> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/** Swagger UI loads its own scripts and styles and sets inline styles; nothing from elsewhere. */
export const DOCS_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Security headers, API keys with roles, and the failed-authentication limit, for every route registered after
 * this on `app`. A JSON answer loads nothing and is never framed or cached; pages that are documents (docs, console,
 * login callback) set their own policy.
 */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  // A route that says nothing about caching is not cached: answers hold configuration and run details.
  app.addHook('onSend', async (_request, reply) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  await app.register(rateLimit, { global: false });
  const failedAuth = app.createRateLimit({
    max: config.api.limits.failedAuthPerMinute,
    timeWindow: MINUTE_MS,
    keyGenerator: (request) => `auth-failed:${request.ip}`,
  });
  const tooManyFailures = () =>
    tooManyRequests(
      `More than ${config.api.limits.failedAuthPerMinute} failed authentications a minute from this address; ` +
        'wait a minute, then send a valid API key.',
    );

  const checkKey = createApiKeyCheck(config.api.keys);
  const docsPublic = !config.api.docsRequireKey;
  app.addHook('onRequest', async (request) => {
    if (isPublic(request.url, docsPublic)) return;
    // Checked before the key, so an address over the limit learns nothing more, not even from a right guess.
    const status = await failedAuth(request, { increment: false });
    if (!status.isAllowed && status.isExceeded) throw tooManyFailures();
    let key: ApiKey;
    try {
      key = checkKey(request.headers.authorization);
    } catch (err) {
      if (!(err instanceof UnauthenticatedError)) throw err;
      const counted = await failedAuth(request);
      throw !counted.isAllowed && counted.isExceeded ? tooManyFailures() : err;
    }
    request.apiKey = key;
    request.log = request.log.child({ apiKey: key.name });
    const route = request.routeOptions.url;
    // An unknown path (404) needs only a valid key.
    if (route) requireRole(key, requiredRole(request.method, route), `${request.method} ${route}`);
  });

  // The OpenAPI document says which routes a key's role may be refused.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const needed = requiredRole(String(methods[0]), route.url);
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (needed === 'viewer' || !response || isPublic(route.url, true)) return;
    response[403] ??= ProblemSchema.describe(
      needed === 'admin' ? 'Needs an admin key' : 'Needs an operator or admin key (a viewer key may only read)',
    );
  });
}
