import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger } from '../logger.js';
import { registerAdminRoutes } from './admin.js';
import {
  type FaultConfig,
  FaultConfigSchema,
  type FaultConfigInput,
  resolveSandboxConfig,
  type SandboxConfig,
  type SandboxConfigInput,
} from './config.js';
import { GraphError, graphErrors, newTraceId } from './errors.js';
import { loadSandboxState, saveSandboxState } from './persistence.js';
import { fixturesOf, type SandboxFixtures } from './fixtures.js';
import { parseJsonBody } from './json-body.js';
import type { GraphRequest } from './request.js';
import { oauthAccessToken } from './handlers/oauth.js';
import { route, routeKey } from './router.js';
import { checkAppSecretProof } from './rules/appsecret-proof.js';
import { defaultBudget, meterCall, throttledError, usageEntry, usageHeader } from './rules/throttle.js';
import { checkVersion } from './rules/version.js';
import type { SandboxWorld as World } from './world.js';
import { SandboxWorld } from './world.js';

export type { SandboxConfig, FaultConfig, SandboxFixtures };

export interface SandboxOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  config?: Partial<SandboxConfigInput>;
  faults?: FaultConfigInput;
  /** Log one line per call (method, path without query, status; never tokens or rows). @default false */
  log?: boolean;
  /** Clock for session windows, token expiry and faults. @default Date.now */
  now?: () => number;
  /** Load the world from this file at start (when it exists) and save it there on close. */
  statePath?: string;
}

export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:PORT`; Graph calls go to `${url}/v25.0/...`. */
  url: string;
  close(): Promise<void>;
  fixtures: SandboxFixtures;
  faults: { set(f: Partial<FaultConfigInput>): void; get(): FaultConfig };
  state: World;
}

/** Parameters of the token exchange the sandbox refuses in a query string. */
const SECRETS_NOT_IN_URL = ['client_secret', 'fb_exchange_token', 'code'];

/** Room for 10,000 full rows of 19 keys (about 13 MB of JSON) with margin. */
const BODY_LIMIT = 32 * 1024 * 1024;

const HTML_ERROR_PAGE =
  "<!DOCTYPE html><html><head><title>Facebook | Error</title></head><body><h1>Sorry, something went wrong.</h1><p>We're working on it and we'll get it fixed as soon as we can.</p></body></html>";

function parseJsonParam(value: unknown, name: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw graphErrors.invalidParameter(`Param ${name} must be JSON`);
  }
}

/** Whether a body is only whitespace (as String.prototype.trim sees it), without decoding a large one. */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b === 0x20 || (b >= 0x09 && b <= 0x0d)) continue;
    return b < 0x80 ? false : bytes.toString('utf8').trim() === '';
  }
  return true;
}

function latencyOf(faults: FaultConfig): number {
  const l = faults.latencyMs;
  if (l === null) return 0;
  if (typeof l === 'number') return l;
  return l[0] + Math.random() * Math.max(0, l[1] - l[0]);
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const now = options.now ?? Date.now;
  const config = resolveSandboxConfig(options.config, now());
  const world = new SandboxWorld(config, FaultConfigSchema.parse(options.faults ?? {}), now);
  if (options.statePath) await loadSandboxState(world, options.statePath);
  const fixtures = fixturesOf(config);
  const logger = options.log ? createLogger('info', 'sandbox') : undefined;
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (isBlank(bytes)) return done(null, {});
    try {
      done(null, parseJsonBody(bytes));
    } catch {
      done(graphErrors.invalidParameter('The request body is not valid JSON'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, _body, done) => done(null, {}));
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof GraphError) return sendGraphError(reply, err, {});
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 413) return sendGraphError(reply, graphErrors.invalidParameter('The request body is too large'), {});
    return sendGraphError(
      reply,
      new GraphError(1, 'An unknown error occurred', { status: 500, isTransient: true }),
      {},
    );
  });

  registerAdminRoutes(app, world, fixtures);

  app.route({
    method: ['GET', 'POST', 'DELETE', 'PUT'],
    url: '/*',
    handler: (req, reply) => handleGraph(world, req, reply, logger),
  });

  await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => {
      await app.close();
      if (options.statePath) await saveSandboxState(world, options.statePath);
    },
    fixtures,
    faults: {
      set: (f) => world.setFaults(f),
      get: () => world.faults,
    },
    state: world,
  };
}

function sendGraphError(reply: FastifyReply, err: GraphError, headers: Record<string, string>): FastifyReply {
  return reply
    .code(err.status)
    .headers({
      ...headers,
      ...err.options.headers,
      ...(err.code === 190 ? { 'www-authenticate': 'OAuth "Facebook Platform" "invalid_token"' } : {}),
    })
    .type('application/json; charset=UTF-8')
    .send(err.toBody());
}

/** Whether a `failingRoutes` fault answers this call; a counted fault is spent by one. */
function failsOnPurpose(world: SandboxWorld, key: string | null): boolean {
  const faults = world.faults.failingRoutes;
  const index = faults.findIndex((f) => f.route === key);
  const fault = faults[index];
  if (fault === undefined) return false;
  if (fault.times !== undefined) {
    world.faults.failingRoutes =
      fault.times > 1
        ? faults.map((f, i) => (i === index ? { ...f, times: fault.times! - 1 } : f))
        : faults.filter((_, i) => i !== index);
  }
  return true;
}

async function handleGraph(
  world: SandboxWorld,
  req: FastifyRequest,
  reply: FastifyReply,
  logger: ReturnType<typeof createLogger> | undefined,
): Promise<FastifyReply> {
  const url = new URL(req.url, `http://${req.headers.host ?? 'localhost'}`);
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const query = Object.fromEntries(url.searchParams);
  const headers: Record<string, string> = { 'x-fb-trace-id': newTraceId() };
  const entry: GraphRequest['log'] = {};
  let method = req.method;
  let status = 200;
  let errorCode: number | undefined;
  let errorSubcode: number | undefined;
  try {
    const latency = latencyOf(world.faults);
    if (latency > 0) await sleep(latency);
    const version = checkVersion(segments[0], world.config.minApiVersion, world.config.maxApiVersion);
    headers['facebook-api-version'] = version;
    if ('payload' in query) {
      throw graphErrors.invalidParameter('payload must be sent in the request body, not in the query string');
    }

    const body = typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
    const params: Record<string, unknown> = { ...query, ...body };
    for (const name of ['payload', 'session']) if (name in params) params[name] = parseJsonParam(params[name], name);
    if (method === 'POST' && typeof params.method === 'string') method = params.method.toUpperCase();
    const rest = segments.slice(1);
    const found = route(method, rest);
    if (!found) throw graphErrors.unknownPath(rest.join('/'));
    // Stricter than Meta on purpose: the token exchange's secrets never go in a URL (RFC 6749 section 2.3.1), which
    // proxies and access logs keep; they come in a POST body.
    if (found.handler === oauthAccessToken) {
      for (const name of SECRETS_NOT_IN_URL) {
        if (name in query) throw graphErrors.invalidParameter(`${name} must be sent in a POST body, not in the URL`);
      }
    }
    const rate = world.faults.transientErrorRate;
    if (failsOnPurpose(world, routeKey(method, rest))) {
      throw new GraphError(2, 'An unexpected error has occurred. Please retry your request later.', {
        isTransient: true,
        status: 500,
      });
    }
    if (rate > 0 && Math.random() < rate) {
      const kind = world.faults.transientErrorKind;
      if (kind === 'html' || (kind === 'mixed' && Math.random() < 0.5)) {
        status = 500;
        return await reply.code(500).headers(headers).type('text/html; charset=utf-8').send(HTML_ERROR_PAGE);
      }
      throw new GraphError(2, 'An unexpected error has occurred. Please retry your request later.', {
        isTransient: true,
        status: 500,
      });
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const rawToken = bearer ?? (typeof params.access_token === 'string' ? params.access_token : undefined);
    let token: ReturnType<SandboxWorld['validToken']> | undefined;
    const selfUrl = new URL(url.toString());
    selfUrl.searchParams.delete('access_token');
    selfUrl.searchParams.delete('appsecret_proof');
    selfUrl.searchParams.delete('appsecret_time');
    const graphReq: GraphRequest = {
      method,
      segments: rest,
      params,
      rawToken,
      selfUrl: selfUrl.toString(),
      log: entry,
      authenticate() {
        if (token) return token;
        const t = world.validToken(rawToken);
        if (world.config.requireAppSecretProof && found.userToken) {
          checkAppSecretProof({
            token: t.token,
            appSecret: world.config.appSecret,
            proof: typeof params.appsecret_proof === 'string' ? params.appsecret_proof : undefined,
            time:
              typeof params.appsecret_time === 'string' || typeof params.appsecret_time === 'number'
                ? String(params.appsecret_time)
                : undefined,
            nowMs: world.now(),
            acceptClassic: world.config.acceptClassicProof,
          });
        }
        return (token = t);
      },
      meterAccount(accountId) {
        const meter = world.meter(accountId);
        const throttle = world.faults.throttle;
        const budget = throttle?.callsPerWindow ?? defaultBudget(world.activeAudiences(accountId));
        const settings = throttle ?? { callsPerWindow: budget, windowMs: 3_600_000, blockMs: 300_000 };
        const blocked = meterCall(meter, settings, world.now());
        headers['x-business-use-case-usage'] = usageHeader(accountId, usageEntry(meter, budget, world.now()));
        if (blocked) throw throttledError(meter, settings, world.now());
      },
    };
    const result = await found.handler(graphReq, world);
    status = result.status ?? 200;
    if (result.redirect)
      return await reply
        .code(status)
        .headers({ ...headers, ...result.headers })
        .redirect(result.redirect, status);
    return await reply
      .code(status)
      .headers({ ...headers, ...result.headers })
      .type('application/json; charset=UTF-8')
      .send(JSON.stringify(result.body));
  } catch (err) {
    const graphErr =
      err instanceof GraphError
        ? err
        : new GraphError(1, 'An unknown error occurred', { status: 500, isTransient: true });
    status = graphErr.status;
    errorCode = graphErr.code;
    errorSubcode = graphErr.options.subcode;
    if (!(err instanceof GraphError)) logger?.error({ err }, 'sandbox handler failed');
    return sendGraphError(reply, graphErr, headers);
  } finally {
    world.record({
      atMs: world.now(),
      method,
      path: url.pathname,
      status,
      ...entry,
      ...(errorCode !== undefined ? { errorCode } : {}),
      ...(errorSubcode !== undefined ? { errorSubcode } : {}),
    });
    logger?.info({ method, path: url.pathname, status, errorCode }, 'graph call');
  }
}
