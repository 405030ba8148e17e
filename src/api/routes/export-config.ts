import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import pLimit from 'p-limit';
import { destinationProblems, IdParamsSchema } from '../schemas/common.js';
import {
  ExportConfigInputSchema,
  ExportConfigSchema,
  PreviewInputSchema,
  PreviewSchema,
} from '../schemas/export-config.js';
import { exportConfigView, putExportConfig } from '../services/export-config.js';
import { previewExport } from '../services/preview.js';
import { routeRateLimits, tooManyRequests } from '../security.js';

const tags = ['export configs'];

/** Previews waiting for a slot beyond those running; more are refused rather than left to pile up. */
const PREVIEW_QUEUE = 4;

export const exportConfigRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;
  // A preview reads and counts a segment in the source database: a few at once, whoever asks.
  const previews = pLimit(deps.config.api.limits.previewConcurrency);

  app.put(
    '/destinations/:id/export-config',
    {
      schema: {
        tags,
        summary: 'Set what is exported: key identifier, mapping, segments, mode and options',
        params: IdParamsSchema,
        body: ExportConfigInputSchema,
        response: {
          200: ExportConfigSchema.describe('Saved (the schedule is kept)'),
          ...destinationProblems({
            400: 'Fields at fault: unknown attributes or segments, a mapping the key identifier cannot use',
          }),
        },
      },
    },
    async (request) => putExportConfig(deps, request.params.id, request.body),
  );

  app.get(
    '/destinations/:id/export-config',
    {
      schema: {
        tags,
        summary: 'The export config',
        params: IdParamsSchema,
        response: {
          200: ExportConfigSchema.describe('The export config'),
          ...destinationProblems({ 404: 'No destination with this id, or it has no export config yet' }),
        },
      },
    },
    async (request) => exportConfigView(await deps.store.exportConfigs.get(request.params.id)),
  );

  app.post(
    '/destinations/:id/export-config/preview',
    {
      schema: {
        tags,
        summary: 'Count, before sending anything, how many profiles of a segment have each mapped key',
        params: IdParamsSchema,
        body: PreviewInputSchema,
        response: {
          200: PreviewSchema.describe('Counts over a sample of the segment: nothing was sent'),
          ...destinationProblems({
            400: 'Unknown segment or attributes, or no mapping given nor saved',
            429: 'Too many previews: per API key a minute, or running at once',
          }),
        },
      },
      config: { rateLimit: routeRateLimits(deps.config).preview },
    },
    async (request, reply) => {
      if (previews.pendingCount >= PREVIEW_QUEUE) {
        void reply.header('retry-after', '5');
        throw tooManyRequests('Previews are busy (a few run at once); retry in a few seconds.', 'url');
      }
      return previews(() => previewExport(deps, request.params.id, request.body));
    },
  );
  return Promise.resolve();
};
