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
        summary:
          'Erase a person (by profile key, e-mail, phone, EXTERN_ID, MADID or name+ZIP) from every audience of ' +
          'every ad account we export to (or the one named) and from our snapshots',
        description:
          'The identifiers are normalised as an export normalises them and removed with usersofanyaudience; the ' +
          'person goes on the suppression list (SHA-256 digests only), so later exports and refreshes leave them ' +
          'out (drop reason erased). Admin keys only. The answer holds counts only.',
        body: ErasureRequestSchema,
        response: {
          202: ErasureResultSchema.describe('Removed: counts of what was searched, matched, sent and deleted'),
          ...problems({
            400: 'No identifier, an identifier that does not normalise, name+ZIP incomplete, or both scopes given',
            404: 'No destination with this id',
            409: 'No destination of the named ad account has a Facebook connection',
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
