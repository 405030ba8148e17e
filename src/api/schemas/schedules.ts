import { z } from 'zod';
import { cronProblem } from '../services/cron.js';
import { RUN_STATUSES } from './exports.js';

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

const ACTION_OUTCOMES = ['starting', 'start_failed', 'unknown', ...RUN_STATUSES] as const;

const ScheduleActionSchema = z.object({
  scheduledAt: z.string(),
  takenAt: z.string(),
  workflowId: z.string().describe('The small workflow the action started, which starts or joins the export'),
  outcome: z
    .enum(ACTION_OUTCOMES)
    .describe(
      '`starting` until the export run exists; `start_failed` when it could not start one (see `error`); ' +
        "then the export run's own status; `unknown` when Temporal no longer has the action's workflow",
    ),
  runId: z.uuid().nullable().describe('The export run it started or joined'),
  joined: z.boolean().nullable().describe('True when it joined an export of the audience already running'),
  error: z.string().nullable().describe("Why the start failed, or the run's error"),
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
    recentActions: z
      .array(ScheduleActionSchema)
      .describe("The schedule's latest actions (timed or triggered), oldest first, each with how it went"),
  })
  .meta({ id: 'Schedule' });

export const TriggeredSchema = z
  .object({
    scheduleId: z.string(),
    triggered: z.literal(true),
    scheduledWorkflowId: z.string().nullable().describe("The workflow the schedule's action started"),
    runId: z
      .uuid()
      .nullable()
      .describe(
        'The export run it started or joined; null when no worker started it within 20 s (GET …/schedule shows it)',
      ),
    workflowId: z.string().nullable().describe("The export's workflow"),
    joined: z.boolean().nullable().describe('True when it joined an export of the audience already running'),
    links: z.object({ run: z.string() }).optional(),
  })
  .meta({ id: 'TriggeredSchedule' });
