import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError, ProblemKind } from '../problem.js';
import { problems } from '../schemas/common.js';
import { checkHealth } from '../services/health.js';

const HealthSchema = z.object({
  status: z.literal('ok'),
  checks: z.object({ database: z.literal('ok'), temporal: z.literal('ok') }),
});

/** `GET /health`: unauthenticated, so load balancers and orchestrators can probe it. */
export const healthRoutes: FastifyPluginAsyncZod = (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Database and Temporal reachable (no API key)',
        security: [],
        response: {
          200: HealthSchema.describe('Database and Temporal answer'),
          ...problems({ 503: 'The database or Temporal does not answer: `errors` names which' }, { public: true }),
        },
      },
    },
    async () => {
      const checks = await checkHealth(app.deps);
      const down = Object.entries(checks)
        .filter(([, v]) => v !== 'ok')
        .map(([k]) => k);
      if (down.length > 0) {
        const errors = down.map((field) => ({ field, message: 'unreachable' }));
        throw new ProblemError(503, ProblemKind.unavailable, `Not reachable: ${down.join(', ')}.`, errors);
      }
      return { status: 'ok' as const, checks: { database: 'ok' as const, temporal: 'ok' as const } };
    },
  );
  return Promise.resolve();
};
