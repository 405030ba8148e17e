import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParamsSchema, problemResponses } from '../schemas/common.js';
import {
  ExportConfigInputSchema,
  ExportConfigSchema,
  PreviewInputSchema,
  PreviewSchema,
} from '../schemas/export-config.js';
import { exportConfigView, putExportConfig } from '../services/export-config.js';
import { previewExport } from '../services/preview.js';

const tags = ['export configs'];

export const exportConfigRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.put(
    '/destinations/:id/export-config',
    {
      schema: {
        tags,
        summary: 'Set what is exported: key identifier, mapping, segments, mode and options',
        params: IdParamsSchema,
        body: ExportConfigInputSchema,
        response: { 200: ExportConfigSchema, ...problemResponses },
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
        response: { 200: ExportConfigSchema, ...problemResponses },
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
        response: { 200: PreviewSchema, ...problemResponses },
      },
    },
    async (request) => previewExport(deps, request.params.id, request.body),
  );
  return Promise.resolve();
};
