import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problems } from '../schemas/common.js';
import { ErasureRequestSchema, ErasureResultSchema } from '../schemas/erasure.js';
import { erasePerson } from '../services/erasure.js';
import { asCaller, routeRateLimits } from '../security.js';

export const erasureRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;
  app.post(
    '/erasure-requests',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Remove a person (by e-mail or phone) from every audience of an ad account and from our snapshots',
        description:
          'The identifier is normalised and hashed, then removed with usersofanyaudience; the answer holds counts ' +
          'only. Remove the person from the profile source too, or the next export adds them back.',
        body: ErasureRequestSchema,
        response: {
          202: ErasureResultSchema.describe('Removed: counts of what was searched, matched, sent and deleted'),
          ...problems({
            400: 'No usable e-mail or phone, or neither destinationId nor adAccountId',
            404: 'No destination with this id',
            409: 'No destination of the ad account has a Facebook connection',
            422: true,
            429: 'More erasure requests a minute than API_ERASURES_PER_MINUTE from this key, or Facebook throttles',
            502: true,
          }),
        },
      },
      config: { rateLimit: routeRateLimits(deps.config).erasure },
    },
    async (request, reply) => reply.code(202).send(await erasePerson(asCaller(deps, request), request.body)),
  );
  return Promise.resolve();
};
