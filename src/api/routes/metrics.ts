import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createExportMetricsRegistry } from '../../metrics/export-metrics.js';
import { problems } from '../schemas/common.js';
import { reconcileRecords } from '../services/run-records.js';

/**
 * Prometheus metrics derived from the run tables at scrape time. Behind the API key like every route but health:
 * configure the scrape job with `authorization: { credentials: <API key> }` (a bearer token).
 */
export const metricsRoutes: FastifyPluginAsyncZod = (app) => {
  const registry = createExportMetricsRegistry(app.deps.store.runMetrics);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['metrics'],
        summary: 'Prometheus metrics: exports by mode, trigger and status, rows, drops, throttling, page latency',
        response: { 200: z.string().describe('Prometheus text exposition format'), ...problems({}) },
      },
    },
    async (_request, reply) => {
      // Runs Temporal closed without finalising are finished first, so they are not counted as running.
      await reconcileRecords(app.deps);
      return reply.type(registry.contentType).send(await registry.metrics());
    },
  );
  return Promise.resolve();
};
