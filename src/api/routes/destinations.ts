import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParamsSchema, PageQuerySchema, problemResponses } from '../schemas/common.js';
import {
  CreateDestinationSchema,
  DeleteDestinationQuerySchema,
  DestinationDetailSchema,
  DestinationPageSchema,
  DestinationSchema,
  UpdateDestinationSchema,
} from '../schemas/destinations.js';
import {
  createDestination,
  deleteDestination,
  describeDestination,
  updateDestination,
} from '../services/destinations.js';
import { destinationView } from '../services/views.js';

const tags = ['destinations'];

export const destinationRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.post(
    '/destinations',
    {
      schema: {
        tags,
        summary: 'Create a destination',
        body: CreateDestinationSchema,
        response: { 201: DestinationSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await createDestination(deps, request.body)),
  );

  app.get(
    '/destinations',
    {
      schema: {
        tags,
        summary: 'List destinations, oldest first',
        querystring: PageQuerySchema,
        response: { 200: DestinationPageSchema, ...problemResponses },
      },
    },
    async (request) => {
      const page = await deps.store.destinations.list(request.query);
      return { items: page.items.map(destinationView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/destinations/:id',
    {
      schema: {
        tags,
        summary: 'A destination with its connection and consent',
        params: IdParamsSchema,
        response: { 200: DestinationDetailSchema, ...problemResponses },
      },
    },
    async (request) => describeDestination(deps, request.params.id),
  );

  app.patch(
    '/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Change a destination',
        params: IdParamsSchema,
        body: UpdateDestinationSchema,
        response: { 200: DestinationSchema, ...problemResponses },
      },
    },
    async (request) => updateDestination(deps, request.params.id, request.body),
  );

  app.delete(
    '/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Delete a destination: cancels its exports, deletes its schedule, token and snapshots',
        params: IdParamsSchema,
        querystring: DeleteDestinationQuerySchema,
        response: { 204: z.null().describe('Deleted'), ...problemResponses },
      },
    },
    async (request, reply) => {
      await deleteDestination(deps, request.params.id, { deleteAudience: request.query.deleteAudience === 'true' });
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
