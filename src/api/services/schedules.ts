import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleOptions,
  type ScheduleSpec,
} from '@temporalio/client';
import type { Destination, ExportSchedule } from '../../store/index.js';
import { findApplicationFailure } from '../../workflows/failures.js';
import { scheduledExport } from '../../workflows/scheduled-export.js';
import { searchAttributes } from '../../workflows/search-attributes.js';
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

/** What the schedule says about itself in the Temporal UI: the destination's name, in words. */
const scheduleLabel = (name: string) => `Refreshes destination '${name}'`;

/** The schedule's action: starts `scheduledExport`, which starts or joins the audience's export. */
function scheduleAction(deps: Deps, destination: Destination) {
  return {
    type: 'startWorkflow' as const,
    workflowType: scheduledExport,
    taskQueue: deps.config.temporal.taskQueue,
    workflowId: `scheduled-export:${destination.id}`,
    args: [{ destinationId: destination.id, trigger: 'schedule' }] as Parameters<typeof scheduledExport>,
    staticSummary: `Scheduled export of destination '${destination.displayName}': starts or joins its export`,
    typedSearchAttributes: scheduleSearchAttributes(destination.id),
  };
}

/**
 * Search attributes of the schedule and of the workflows it starts: only what never changes for the destination,
 * so they never go stale (the audience, segments and mode are on each export run).
 */
const scheduleSearchAttributes = (destinationId: string) => [
  { key: searchAttributes.destinationId, value: destinationId },
  { key: searchAttributes.trigger, value: 'schedule' },
];

/**
 * Creates or changes the destination's schedule. Its action starts `scheduledExport`, which starts or joins the
 * audience's export; overlapping actions are skipped, and missed ones (server down) run if within an hour.
 */
export async function putSchedule(deps: Deps, destinationId: string, input: ScheduleInput) {
  const destination = await deps.store.destinations.get(destinationId);
  const config = await deps.store.exportConfigs.get(destinationId);
  const paused = config.schedule?.paused ?? false;
  const options: ScheduleOptions = {
    scheduleId: scheduleIdOf(destinationId),
    spec: toSpec(input),
    action: scheduleAction(deps, destination),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    state: { paused, note: scheduleLabel(destination.displayName) },
    memo: { destinationId },
    typedSearchAttributes: scheduleSearchAttributes(destinationId),
  };
  try {
    try {
      await deps.temporalClient.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await deps.temporalClient.schedule.getHandle(options.scheduleId).update((prev) => ({
        ...prev,
        spec: options.spec,
        action: options.action,
        policies: options.policies,
        typedSearchAttributes: options.typedSearchAttributes,
      }));
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

/**
 * After a rename: the schedule's action summary (and its note, unless a pause reason is in it) name the destination
 * as it is called now. No schedule is fine.
 */
export async function relabelSchedule(deps: Deps, destination: Destination): Promise<void> {
  try {
    await deps.temporalClient.schedule.getHandle(scheduleIdOf(destination.id)).update((prev) => ({
      ...prev,
      action: scheduleAction(deps, destination),
      state: prev.state.paused ? prev.state : { ...prev.state, note: scheduleLabel(destination.displayName) },
    }));
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
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
    recentActions: await Promise.all(
      d.info.recentActions.map(async (a) => ({
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
        workflowId: a.action.workflow.workflowId,
        ...(await actionOutcome(deps, a.action.workflow)),
      })),
    ),
  };
}

/**
 * How one of the schedule's actions went: its small workflow starts (or joins) an export, whose record then says
 * how the export went. Any error reading it is the answer `unknown`, never a failed GET.
 */
async function actionOutcome(deps: Deps, action: { workflowId: string; firstExecutionRunId: string }) {
  const none = { runId: null, joined: null, error: null };
  const handle = deps.temporalClient.workflow.getHandle<typeof scheduledExport>(
    action.workflowId,
    action.firstExecutionRunId,
  );
  try {
    const status = (await handle.describe()).status.name;
    if (status === 'RUNNING') return { ...none, outcome: 'starting' as const };
    const started = await handle.result().catch((err: unknown) => err as Error);
    if (started instanceof Error) {
      return { ...none, outcome: 'start_failed' as const, error: failureMessage(started) };
    }
    const run = await deps.store.exportRuns.get(started.runId).catch(() => null);
    return {
      runId: started.runId,
      joined: started.joined,
      outcome: run?.status ?? ('starting' as const),
      error: run?.errorMessage ?? null,
    };
  } catch {
    return { ...none, outcome: 'unknown' as const };
  }
}

/** A workflow failure's words for the operator: its activity's (which says what to do), else its own. */
const failureMessage = (err: Error): string => findApplicationFailure(err)?.message ?? err.message;

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

/** How long a trigger waits for the schedule to take the action and for its workflow to start the export. */
export const TRIGGER_WAIT_MS = 20_000;

/**
 * Runs the schedule's action now and answers the export run it started (or joined). A schedule whose destination
 * has no current consent is refused, paused or not: its export would only fail (consent withdrawn pauses it).
 */
export async function triggerSchedule(deps: Deps, destinationId: string) {
  const scheduleId = scheduleIdOf(destinationId);
  const before = await onSchedule(deps, destinationId, (h) => h.describe());
  if (!(await deps.store.consents.current(destinationId))) {
    throw new ProblemError(
      409,
      ProblemKind.conflict,
      `The schedule${before.state.paused ? ' is paused and its' : "'s"} destination has no current consent: record ` +
        `it (POST /destinations/${destinationId}/consent) before triggering the schedule.`,
      [{ field: 'consent', message: 'no current consent' }],
    );
  }
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  const handle = deps.temporalClient.schedule.getHandle(scheduleId);
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const deadline = Date.now() + TRIGGER_WAIT_MS;
  let action: { workflowId: string; firstExecutionRunId: string } | undefined;
  while (!action && Date.now() < deadline) {
    const d = await handle.describe();
    action = [...d.info.runningActions, ...d.info.recentActions.map((a) => a.action)]
      .map((a) => a.workflow)
      .find((w) => !seen.has(w.workflowId));
    if (!action) await sleep(200);
  }
  const pending = { scheduleId, triggered: true as const, scheduledWorkflowId: action?.workflowId ?? null };
  if (!action) return { ...pending, runId: null, workflowId: null, joined: null };
  const started = await deps.temporalClient
    .withDeadline(deadline, () =>
      deps.temporalClient.workflow
        .getHandle<typeof scheduledExport>(action.workflowId, action.firstExecutionRunId)
        .result(),
    )
    .catch((err: unknown) => {
      if (isDeadline(err)) return null; // no worker took it in time: GET …/schedule shows how it goes
      throw new ProblemError(
        409,
        ProblemKind.conflict,
        `The schedule's action could not start the export: ${failureMessage(err as Error)}`,
        [{ field: 'params.id', message: 'export not started' }],
      );
    });
  if (!started) return { ...pending, runId: null, workflowId: null, joined: null };
  return {
    ...pending,
    runId: started.runId,
    workflowId: started.workflowId,
    joined: started.joined,
    links: { run: `/exports/${started.runId}` },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The client's deadline passed (gRPC DEADLINE_EXCEEDED). */
const isDeadline = (err: unknown) =>
  (err as { code?: number }).code === 4 || /deadline/i.test((err as Error)?.message ?? '');

export async function removeSchedule(deps: Deps, destinationId: string): Promise<void> {
  await deps.store.destinations.get(destinationId);
  await onSchedule(deps, destinationId, (h) => h.describe());
  await deleteSchedule(deps.temporalClient, destinationId);
  await deps.store.exportConfigs.setSchedule(destinationId, null).catch(() => undefined);
}

/**
 * Starts every scheduled (not paused) export now with trigger `refresh`, joining those already running. A
 * destination that cannot export (consent, token, Facebook or Temporal unreachable, ...) is skipped with the
 * reason, not a failure of the whole call.
 */
export async function refreshScheduled(deps: Deps) {
  const started: { destinationId: string; runId: string; workflowId: string; joined: boolean }[] = [];
  const skipped: { destinationId: string; reason: string }[] = [];
  for (const config of await deps.store.exportConfigs.listScheduled()) {
    try {
      const s = await startDestinationExport(deps, config.destinationId, 'refresh');
      started.push({ destinationId: config.destinationId, runId: s.runId, workflowId: s.workflowId, joined: s.joined });
    } catch (err) {
      if (err instanceof ProblemError && err.status < 500) {
        skipped.push({ destinationId: config.destinationId, reason: err.detail });
        continue;
      }
      // One destination whose Facebook or Temporal call fails must not stop the refresh of the others; the
      // details stay in our log (through the error serializer), the answer says only what to do.
      deps.logger.error({ err, destinationId: config.destinationId }, 'refresh could not start an export');
      skipped.push({ destinationId: config.destinationId, reason: 'the export could not be started; try again later' });
    }
  }
  deps.logger.info({ started: started.length, skipped: skipped.length }, 'refresh');
  return { started, skipped };
}
