import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParamsSchema, problemResponses } from '../schemas/common.js';
import {
  ConsentInputSchema,
  ConsentSchema,
  WithdrawalSchema,
  WithdrawConsentQuerySchema,
} from '../schemas/export-config.js';
import { consentRecordView, giveConsent, withdrawConsent } from '../services/consent.js';

const tags = ['consent'];

export const consentRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.post(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Record agreement to the data privacy and compliance statement',
        params: IdParamsSchema,
        body: ConsentInputSchema,
        response: { 201: ConsentSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await giveConsent(deps, request.params.id, request.body)),
  );

  app.get(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Every consent record, newest first',
        params: IdParamsSchema,
        response: { 200: z.object({ items: z.array(ConsentSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      await deps.store.destinations.get(request.params.id);
      return { items: (await deps.store.consents.history(request.params.id)).map(consentRecordView) };
    },
  );

  app.delete(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Withdraw consent: cancels running exports and pauses the schedule',
        params: IdParamsSchema,
        querystring: WithdrawConsentQuerySchema,
        response: { 200: WithdrawalSchema, ...problemResponses },
      },
    },
    async (request) => withdrawConsent(deps, request.params.id, request.query.withdrawnBy),
  );
  return Promise.resolve();
};
