import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { destinationProblems, IdParamsSchema, PageQuerySchema, problems } from '../schemas/common.js';
import {
  CreateDestinationSchema,
  DeleteDestinationQuerySchema,
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
import { asCaller } from '../security.js';
import { mapBounded } from '../services/bounded-map.js';

const tags = ['destinations'];

export const destinationRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.post(
    '/destinations',
    {
      schema: {
        tags,
        summary: 'Create a destination (a draft with only its name, or with ad account and audience)',
        description:
          "The connector's order: create it with its display name, connect Facebook, then choose the ad account " +
          'and an existing or new audience (PATCH) from what the connection lists.',
        body: CreateDestinationSchema,
        response: {
          201: DestinationSchema.describe('Created'),
          ...problems({ 400: true, 409: 'Another destination already exports into this audience' }),
        },
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
        response: {
          200: DestinationPageSchema.describe('One page; pass nextCursor as cursor for the next'),
          ...problems({ 400: 'A bad limit or an unknown cursor' }),
        },
      },
    },
    async (request) => {
      const page = await deps.store.destinations.list(request.query);
      // A scheduled destination asks Temporal for its next run: a few at a time.
      const items = await mapBounded(page.items, (d) => describeDestination(deps, d));
      return { items, nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/destinations/:id',
    {
      schema: {
        tags,
        summary: 'A destination: its state, connection, consent, last run and schedule',
        params: IdParamsSchema,
        response: { 200: DestinationSchema.describe('The destination'), ...destinationProblems() },
      },
    },
    async (request) => describeDestination(deps, request.params.id),
  );

  app.patch(
    '/destinations/:id',
    {
      schema: {
        tags,
        summary: 'Change a destination: its name, ad account, or audience (existing or new)',
        params: IdParamsSchema,
        body: UpdateDestinationSchema,
        response: {
          200: DestinationSchema.describe('Changed'),
          ...destinationProblems({ 409: 'Another destination already exports into this audience' }),
        },
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
        response: {
          204: z.null().describe('Deleted, with its schedule, token and snapshots; its exports were cancelled'),
          ...destinationProblems({ 409: 'deleteAudience=true but Facebook is not connected', 422: true, 502: true }),
        },
      },
    },
    async (request, reply) => {
      await deleteDestination(asCaller(deps, request), request.params.id, {
        deleteAudience: request.query.deleteAudience === 'true',
      });
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
