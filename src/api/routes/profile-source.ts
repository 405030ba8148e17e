import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problems } from '../schemas/common.js';

const tags = ['profile source'];

const AttributeListSchema = z
  .object({
    items: z.array(
      z.object({
        name: z.string().describe('What a mapping names (the column of the profiles table or view)'),
        type: z.string().describe('PostgreSQL type, e.g. text, date, boolean'),
      }),
    ),
  })
  .meta({ id: 'AttributeList' });

const SegmentListSchema = z
  .object({
    items: z.array(z.object({ name: z.string(), size: z.number().int().describe('Members now') })),
  })
  .meta({ id: 'SegmentList' });

/** What an export config can name: the profile source's attributes and segments, read live from the source. */
export const profileSourceRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.get(
    '/profile-source/attributes',
    {
      schema: {
        tags,
        summary: "The profile source's attributes with their types: what a mapping can name",
        response: { 200: AttributeListSchema.describe('Attributes in column order'), ...problems({}) },
      },
    },
    async () => ({ items: await deps.source.listAttributes() }),
  );

  app.get(
    '/profile-source/segments',
    {
      schema: {
        tags,
        summary: "The profile source's segments with their sizes: what an export config can export",
        response: { 200: SegmentListSchema.describe('Segments by name'), ...problems({}) },
      },
    },
    async () => ({ items: (await deps.source.listSegments()).map((s) => ({ name: s.name, size: Number(s.size) })) }),
  );
  return Promise.resolve();
};
