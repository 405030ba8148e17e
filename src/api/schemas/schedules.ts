import { z } from 'zod';
import { cronProblem } from '../services/cron.js';

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const ScheduleInputSchema = z
  .strictObject({
    cron: z
      .string()
      .trim()
      .max(200)
      .optional()
      .superRefine((v, ctx) => {
        const problem = v === undefined ? null : cronProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Five fields: minute hour day-of-month month day-of-week, e.g. `0 6 * * 1-5`'),
    intervalSeconds: z
      .number()
      .int()
      .min(60, 'must be at least 60 seconds')
      .max(366 * 86_400)
      .optional(),
    timezone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
      .default('UTC')
      .describe('Time zone of the cron expression'),
  })
  .superRefine((v, ctx) => {
    if ((v.cron === undefined) === (v.intervalSeconds === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give exactly one of cron and intervalSeconds' });
    }
  });

export const ScheduleSchema = z
  .object({
    scheduleId: z.string(),
    destinationId: z.uuid(),
    cron: z.string().nullable(),
    intervalSeconds: z.number().nullable(),
    timezone: z.string(),
    paused: z.boolean(),
    note: z.string().nullable(),
    nextRuns: z.array(z.string()),
    recentActions: z.array(z.object({ scheduledAt: z.string(), takenAt: z.string(), workflowId: z.string() })),
  })
  .meta({ id: 'Schedule' });

export const TriggeredSchema = z.object({ scheduleId: z.string(), triggered: z.literal(true) });
