import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { IdParamsSchema, problemResponses } from '../schemas/common.js';
import { ScheduleInputSchema, ScheduleSchema, TriggeredSchema } from '../schemas/schedules.js';
import {
  describeSchedule,
  putSchedule,
  removeSchedule,
  setSchedulePaused,
  triggerSchedule,
} from '../services/schedules.js';

const tags = ['schedules'];
const one = { params: IdParamsSchema, response: { 200: ScheduleSchema, ...problemResponses } };

export const scheduleRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.put(
    '/destinations/:id/schedule',
    {
      schema: {
        tags,
        summary: 'Set the refresh schedule: a cron expression in a time zone, or an interval',
        body: ScheduleInputSchema,
        ...one,
      },
    },
    async (request) => putSchedule(deps, request.params.id, request.body),
  );

  app.get(
    '/destinations/:id/schedule',
    { schema: { tags, summary: 'The schedule: next runs, paused, recent actions', ...one } },
    async (request) => describeSchedule(deps, request.params.id),
  );

  app.post(
    '/destinations/:id/schedule/pause',
    { schema: { tags, summary: 'Pause the schedule', ...one } },
    async (request) => setSchedulePaused(deps, request.params.id, true),
  );

  app.post(
    '/destinations/:id/schedule/resume',
    { schema: { tags, summary: 'Resume the schedule (needs current consent)', ...one } },
    async (request) => setSchedulePaused(deps, request.params.id, false),
  );

  app.post(
    '/destinations/:id/schedule/trigger',
    {
      schema: {
        tags,
        summary: "Run the schedule's action now (starts or joins the export)",
        params: IdParamsSchema,
        response: { 202: TriggeredSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(202).send(await triggerSchedule(deps, request.params.id)),
  );

  app.delete(
    '/destinations/:id/schedule',
    {
      schema: {
        tags,
        summary: 'Delete the schedule',
        params: IdParamsSchema,
        response: { 204: z.null().describe('Deleted'), ...problemResponses },
      },
    },
    async (request, reply) => {
      await removeSchedule(deps, request.params.id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
