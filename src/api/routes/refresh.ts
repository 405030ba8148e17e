import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problems } from '../schemas/common.js';
import { RefreshSchema } from '../schemas/exports.js';
import { refreshScheduled } from '../services/schedules.js';
import { asCaller } from '../security.js';

export const refreshRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;
  app.post(
    '/refresh',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Start every scheduled (not paused) export now; those running are joined',
        response: {
          202: RefreshSchema.describe('The exports started or joined, and those skipped with the reason'),
          ...problems({ 502: 'Temporal did not answer' }),
        },
      },
    },
    async (request, reply) => reply.code(202).send(await refreshScheduled(asCaller(deps, request))),
  );
  return Promise.resolve();
};
