import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { destinationProblems, IdParamsSchema, problems } from '../schemas/common.js';
import {
  CancelledSchema,
  ExportDetailSchema,
  ExportListQuerySchema,
  ExportPageSchema,
  RunIdParamsSchema,
  StartedExportSchema,
} from '../schemas/exports.js';
import { cancelExport, getExport, listExports, startDestinationExport } from '../services/exports.js';

const tags = ['exports'];

export const exportRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.post(
    '/destinations/:id/exports',
    {
      schema: {
        tags,
        summary: "Start the destination's export now, or join the one running for its audience",
        description:
          'Refused with 409 before anything starts when consent, the Facebook connection, a working token or the ' +
          'export config is missing, or while the destination is being deleted; once deleted it is gone (404). ' +
          'The run record appears once validation ran.',
        params: IdParamsSchema,
        response: {
          202: StartedExportSchema.describe('Started (or joined): follow it at links.self'),
          ...destinationProblems({
            404: 'No destination with this id (a deleted destination is gone)',
            409:
              'Not ready: a draft, no consent, no Facebook connection or a broken token, or no export config; or ' +
              'being deleted',
            502: true,
          }),
        },
      },
    },
    async (request, reply) => reply.code(202).send(await startDestinationExport(deps, request.params.id)),
  );

  app.get(
    '/exports',
    {
      schema: {
        tags,
        summary: 'Export runs, newest first, with live status from Temporal for running ones',
        querystring: ExportListQuerySchema,
        response: {
          200: ExportPageSchema.describe('One page of runs; pass nextCursor as cursor for the next'),
          ...problems({ 400: true }),
        },
      },
    },
    async (request) => listExports(deps, request.query),
  );

  app.get(
    '/exports/:runId',
    {
      schema: {
        tags,
        summary: 'One run: its record, health checks, and live progress while it runs',
        params: RunIdParamsSchema,
        response: {
          200: ExportDetailSchema.describe('The run'),
          ...problems({ 400: true, 404: 'No run with this id' }),
        },
      },
    },
    async (request) => getExport(deps, request.params.runId),
  );

  app.post(
    '/exports/:runId/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a running export: in-flight pages settle, then it finalises as cancelled',
        params: RunIdParamsSchema,
        response: {
          202: CancelledSchema.describe('Cancellation requested: the run finalises as cancelled'),
          ...problems({ 400: true, 404: 'No run with this id', 409: 'The run is not running' }),
        },
      },
    },
    async (request, reply) => reply.code(202).send(await cancelExport(deps, request.params.runId)),
  );
  return Promise.resolve();
};
