import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { ExportSchedule } from '../../store/index.js';
import { scheduledExport } from '../../workflows/scheduled-export.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { startDestinationExport } from './exports.js';
import { deleteSchedule, scheduleIdOf } from './temporal-control.js';

type Deps = Pick<ApiDeps, 'store' | 'graph' | 'config' | 'temporalClient' | 'now' | 'logger'>;

export interface ScheduleInput {
  cron?: string;
  intervalSeconds?: number;
  timezone: string;
}

const toSpec = (s: ScheduleInput): ScheduleSpec =>
  s.cron !== undefined
    ? { cronExpressions: [s.cron], timezone: s.timezone }
    : { intervals: [{ every: `${s.intervalSeconds ?? 3600}s` }] };

const noSchedule = (destinationId: string) =>
  new ProblemError(404, ProblemKind.notFound, `Destination ${destinationId} has no schedule: PUT one first.`, [
    { field: 'params.id', message: 'no schedule' },
  ]);

/** Runs `fn` on the destination's schedule handle; a missing schedule becomes a 404. */
async function onSchedule<T>(
  deps: Deps,
  destinationId: string,
  fn: (h: ReturnType<Deps['temporalClient']['schedule']['getHandle']>) => Promise<T>,
) {
  try {
    return await fn(deps.temporalClient.schedule.getHandle(scheduleIdOf(destinationId)));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw noSchedule(destinationId);
    throw err;
  }
}

/**
 * Creates or changes the destination's schedule. Its action starts `scheduledExport`, which starts or joins the
 * audience's export; overlapping actions are skipped, and missed ones (server down) run if within an hour.
 */
export async function putSchedule(deps: Deps, destinationId: string, input: ScheduleInput) {
  await deps.store.destinations.get(destinationId);
  const config = await deps.store.exportConfigs.get(destinationId);
  const paused = config.schedule?.paused ?? false;
  const options: ScheduleOptions = {
    scheduleId: scheduleIdOf(destinationId),
    spec: toSpec(input),
    action: {
      type: 'startWorkflow',
      workflowType: scheduledExport,
      taskQueue: deps.config.temporal.taskQueue,
      workflowId: `scheduled-export:${destinationId}`,
      args: [{ destinationId, trigger: 'schedule' }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    state: { paused },
  };
  try {
    try {
      await deps.temporalClient.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await deps.temporalClient.schedule
        .getHandle(options.scheduleId)
        .update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: options.policies }));
    }
  } catch (err) {
    throw invalidSpec(err, input);
  }
  const stored: ExportSchedule = {
    ...(input.cron !== undefined ? { cron: input.cron } : { intervalSeconds: input.intervalSeconds }),
    timezone: input.timezone,
    paused,
  };
  await deps.store.exportConfigs.setSchedule(destinationId, stored);
  return describeSchedule(deps, destinationId);
}

/** Temporal refuses a spec our own check let through: a 400 naming the field. Other errors pass unchanged. */
function invalidSpec(err: unknown, input: ScheduleInput): unknown {
  const message = (err as { details?: string; message?: string }).details ?? (err as Error).message ?? '';
  if (!/invalid|cron|spec|interval|time ?zone/i.test(message) || !/argument|invalid/i.test(message)) return err;
  const field = input.cron !== undefined ? 'body.cron' : 'body.intervalSeconds';
  return new ProblemError(400, ProblemKind.validation, 'Temporal refused the schedule: correct the field in errors.', [
    { field, message: 'not accepted by Temporal' },
  ]);
}

export async function describeSchedule(deps: Deps, destinationId: string) {
  const d = await onSchedule(deps, destinationId, (h) => h.describe());
  const config = await deps.store.exportConfigs.get(destinationId).catch(() => null);
  const stored = config?.schedule;
  return {
    scheduleId: d.scheduleId,
    destinationId,
    cron: stored?.cron ?? null,
    intervalSeconds: stored?.intervalSeconds ?? null,
    timezone: stored?.timezone ?? 'UTC',
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextRuns: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentActions: d.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      takenAt: a.takenAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

/** Pauses or resumes; resuming needs current consent (withdrawal paused it for a reason). */
export async function setSchedulePaused(deps: Deps, destinationId: string, paused: boolean) {
  if (!paused && !(await deps.store.consents.current(destinationId))) {
    throw new ProblemError(
      409,
      ProblemKind.conflict,
      `Record consent again (POST /destinations/${destinationId}/consent) before resuming the schedule.`,
      [{ field: 'consent', message: 'no current consent' }],
    );
  }
  await onSchedule(deps, destinationId, (h) =>
    paused ? h.pause('paused over the API') : h.unpause('resumed over the API'),
  );
  const config = await deps.store.exportConfigs.get(destinationId);
  if (config.schedule) await deps.store.exportConfigs.setSchedule(destinationId, { ...config.schedule, paused });
  return describeSchedule(deps, destinationId);
}

/** Runs the schedule's action now (it starts or joins the export, so an export already running is joined). */
export async function triggerSchedule(deps: Deps, destinationId: string) {
  await onSchedule(deps, destinationId, (h) => h.trigger(ScheduleOverlapPolicy.ALLOW_ALL));
  return { scheduleId: scheduleIdOf(destinationId), triggered: true as const };
}

export async function removeSchedule(deps: Deps, destinationId: string): Promise<void> {
  await deps.store.destinations.get(destinationId);
  await onSchedule(deps, destinationId, (h) => h.describe());
  await deleteSchedule(deps.temporalClient, destinationId);
  await deps.store.exportConfigs.setSchedule(destinationId, null).catch(() => undefined);
}

/**
 * Starts every scheduled (not paused) export now with trigger `refresh`, joining those already running. A
 * destination that cannot export (consent, token, ...) is skipped with the reason, not a failure of the whole call.
 */
export async function refreshScheduled(deps: Deps) {
  const started: { destinationId: string; runId: string; workflowId: string; joined: boolean }[] = [];
  const skipped: { destinationId: string; reason: string }[] = [];
  for (const config of await deps.store.exportConfigs.listScheduled()) {
    try {
      const s = await startDestinationExport(deps, config.destinationId, 'refresh');
      started.push({ destinationId: config.destinationId, runId: s.runId, workflowId: s.workflowId, joined: s.joined });
    } catch (err) {
      if (!(err instanceof ProblemError) || err.status >= 500) throw err;
      skipped.push({ destinationId: config.destinationId, reason: err.detail });
    }
  }
  deps.logger.info({ started: started.length, skipped: skipped.length }, 'refresh');
  return { started, skipped };
}
