import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type FastifyPluginAsyncZod,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ApiDeps } from './deps.js';
import { handleError, handleNotFound } from './error-handler.js';
import { refuseNul } from './nul-guard.js';
import { consentRoutes } from './routes/consent.js';
import { consoleRoutes } from './routes/console.js';
import { erasureRoutes } from './routes/erasure.js';
import { destinationRoutes } from './routes/destinations.js';
import { exportConfigRoutes } from './routes/export-config.js';
import { facebookRoutes } from './routes/facebook.js';
import { exportRoutes } from './routes/exports.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { profileSourceRoutes } from './routes/profile-source.js';
import { refreshRoutes } from './routes/refresh.js';
import { scheduleRoutes } from './routes/schedules.js';
import { DOCS_CSP, registerSecurity } from './security.js';

/** Bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The API as a plugin: schemas, docs, auth, error handling and every route, over injected deps. */
export const apiPlugin: FastifyPluginAsyncZod<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.decorate('deps', deps);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  // JSON only: a text/plain body would otherwise parse as a string and fail validation with a vaguer 400.
  app.removeContentTypeParser('text/plain');

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'audience-export',
        description: 'Export profile segments to Facebook custom audiences',
        version: '0.1.0',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await registerSecurity(app, deps.config);
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      refuseNul(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
  // Our own access log: route pattern, not URL, so ids in queries (OAuth code, state) never reach the log; the
  // key's name (request.log's binding, set by the auth hook) says who called.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  await app.register(healthRoutes);
  await app.register(destinationRoutes);
  await app.register(facebookRoutes);
  await app.register(consentRoutes);
  await app.register(exportConfigRoutes);
  await app.register(exportRoutes);
  await app.register(scheduleRoutes);
  await app.register(refreshRoutes);
  await app.register(metricsRoutes);
  await app.register(erasureRoutes);
  await app.register(profileSourceRoutes);
  await app.register(consoleRoutes);
};

/** Builds the app (not listening): `server.ts` is the only place that listens. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  // Typed as Fastify's logger so the instance is the default FastifyInstance the rest of the code expects.
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    // Fastify's access log writes the URL with its query; ours (onResponse above) writes the route pattern.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    ...(deps.config.api.trustProxy !== undefined ? { trustProxy: deps.config.api.trustProxy } : {}),
    // Malformed or overlong URLs are refused by the router before any hook: answer them as problems too.
    frameworkErrors: (error, request, reply) => {
      void handleError(error, request, reply);
    },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  await app.register(apiPlugin, { deps });
  await app.ready();
  return app;
}
