import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { destinationProblems, IdParamsSchema } from '../schemas/common.js';
import { ScheduleInputSchema, ScheduleSchema, TriggeredSchema } from '../schemas/schedules.js';
import {
  describeSchedule,
  putSchedule,
  removeSchedule,
  setSchedulePaused,
  triggerSchedule,
} from '../services/schedules.js';

const tags = ['schedules'];
const noSchedule = 'No destination with this id, or it has no schedule';
const one = (answer: string, more: Parameters<typeof destinationProblems>[0] = {}) => ({
  params: IdParamsSchema,
  response: { 200: ScheduleSchema.describe(answer), ...destinationProblems({ 404: noSchedule, ...more }) },
});

export const scheduleRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.put(
    '/destinations/:id/schedule',
    {
      schema: {
        tags,
        summary: 'Set the refresh schedule: a cron expression in a time zone, or an interval',
        body: ScheduleInputSchema,
        ...one('The schedule, with its next runs', {
          400: 'Not a cron expression, interval or time zone Temporal accepts',
          404: 'No destination with this id, or it has no export config yet',
        }),
      },
    },
    async (request) => putSchedule(deps, request.params.id, request.body),
  );

  app.get(
    '/destinations/:id/schedule',
    { schema: { tags, summary: 'The schedule: next runs, paused, recent actions', ...one('The schedule') } },
    async (request) => describeSchedule(deps, request.params.id),
  );

  app.post(
    '/destinations/:id/schedule/pause',
    { schema: { tags, summary: 'Pause the schedule', ...one('Paused') } },
    async (request) => setSchedulePaused(deps, request.params.id, true),
  );

  app.post(
    '/destinations/:id/schedule/resume',
    {
      schema: {
        tags,
        summary: 'Resume the schedule (needs current consent)',
        ...one('Resumed', { 409: 'No current consent: record it first' }),
      },
    },
    async (request) => setSchedulePaused(deps, request.params.id, false),
  );

  app.post(
    '/destinations/:id/schedule/trigger',
    {
      schema: {
        tags,
        summary: "Run the schedule's action now and answer the export run it started (or joined)",
        params: IdParamsSchema,
        response: {
          202: TriggeredSchema.describe("Triggered: the schedule's action started or joined this export run"),
          ...destinationProblems({
            404: noSchedule,
            409: 'No current consent (paused or not), or the action could not start the export',
          }),
        },
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
        response: { 204: z.null().describe('Deleted'), ...destinationProblems({ 404: noSchedule }) },
      },
    },
    async (request, reply) => {
      await removeSchedule(deps, request.params.id);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
