import { toAdAccountId } from '../../facebook/index.js';
import { DestinationStatus, type Destination, type DestinationUpdate } from '../../store/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { relabelSchedule } from './schedules.js';
import { cancelRunningExports, deleteSchedule, scheduleIdOf } from './temporal-control.js';
import { connectionView, consentView, destinationState, type DestinationView } from './views.js';

type Deps = Pick<ApiDeps, 'store' | 'graph' | 'temporalClient' | 'config' | 'logger'> & { now?: () => number };

/** How long a destination read waits for Temporal's next run time before it answers without it. */
const NEXT_RUN_TIMEOUT_MS = 2_000;

/** The destination as the API shows it: its state, connection, consent, last run and schedule. */
export async function describeDestination(deps: Deps, idOrDestination: string | Destination): Promise<DestinationView> {
  const d = typeof idOrDestination === 'string' ? await deps.store.destinations.get(idOrDestination) : idOrDestination;
  const [credential, consent, runs, config] = await Promise.all([
    deps.store.credentials.describe(d.id),
    deps.store.consents.current(d.id),
    deps.store.exportRuns.list({ destinationId: d.id, limit: 1 }),
    deps.store.exportConfigs.get(d.id).catch(() => null),
  ]);
  const connection = connectionView(d, credential, (deps.now ?? Date.now)());
  const last = runs.items[0];
  const schedule = config?.schedule;
  return {
    id: d.id,
    displayName: d.displayName,
    adAccountId: d.adAccountId,
    audienceId: d.audienceId,
    newAudienceName: d.newAudienceName,
    status: destinationState(d, connection.status, consent),
    connection,
    consent: consentView(consent),
    lastRun: last
      ? {
          runId: last.id,
          status: last.status,
          startedAt: last.startedAt.toISOString(),
          finishedAt: last.finishedAt?.toISOString() ?? null,
        }
      : null,
    schedule: schedule
      ? {
          cron: schedule.cron ?? null,
          intervalSeconds: schedule.intervalSeconds ?? null,
          timezone: schedule.timezone ?? 'UTC',
          paused: schedule.paused ?? false,
          nextRunAt: schedule.paused ? null : await nextRunAt(deps, d.id),
        }
      : null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** Temporal's next action time of the destination's schedule; null when it has none or does not answer in time. */
async function nextRunAt(deps: Pick<Deps, 'temporalClient'>, destinationId: string): Promise<string | null> {
  try {
    const described = await deps.temporalClient.withDeadline(Date.now() + NEXT_RUN_TIMEOUT_MS, () =>
      deps.temporalClient.schedule.getHandle(scheduleIdOf(destinationId)).describe(),
    );
    return described.info.nextActionTimes[0]?.toISOString() ?? null;
  } catch {
    return null; // no schedule in Temporal, or Temporal unreachable: the rest of the destination still answers
  }
}

export async function createDestination(
  deps: Deps,
  input: { displayName: string; adAccountId?: string; audienceId?: string; newAudienceName?: string },
) {
  const d = await deps.store.destinations.create({
    displayName: input.displayName,
    facebookAppId: deps.config.facebook.appId ?? '',
    adAccountId: input.adAccountId === undefined ? null : toAdAccountId(input.adAccountId),
    audienceId: input.audienceId ?? null,
    newAudienceName: input.newAudienceName ?? null,
  });
  return describeDestination(deps, d);
}

export interface DestinationChanges {
  displayName?: string | undefined;
  adAccountId?: string | undefined;
  audienceId?: string | undefined;
  newAudienceName?: string | undefined;
}

/**
 * The store update for a PATCH. An audience is either existing or new, so choosing one clears the other; a
 * different ad account clears the audience of the old one unless the request names one, and the old account's
 * "terms not accepted" mark (the new account is checked again at the next export).
 */
export function destinationUpdate(current: Destination, changes: DestinationChanges): DestinationUpdate {
  const update: { -readonly [K in keyof DestinationUpdate]: DestinationUpdate[K] } = {};
  if (changes.displayName !== undefined) update.displayName = changes.displayName;
  const account = changes.adAccountId === undefined ? undefined : toAdAccountId(changes.adAccountId);
  if (account !== undefined && account !== current.adAccountId) {
    update.adAccountId = account;
    update.audienceId = null;
    update.newAudienceName = null;
    if (current.status === DestinationStatus.NeedsTerms) update.status = DestinationStatus.Active;
  }
  if (changes.audienceId !== undefined) {
    update.audienceId = changes.audienceId;
    update.newAudienceName = null;
  }
  if (changes.newAudienceName !== undefined) {
    update.newAudienceName = changes.newAudienceName;
    update.audienceId = null;
  }
  return update;
}

export async function updateDestination(deps: Deps, id: string, changes: DestinationChanges) {
  const current = await deps.store.destinations.get(id);
  if (changes.audienceId !== undefined && current.adAccountId === null && changes.adAccountId === undefined) {
    return refuseAudienceWithoutAccount();
  }
  const updated = await deps.store.destinations.update(id, destinationUpdate(current, changes));
  if (updated.displayName !== current.displayName) await relabelSchedule(deps, updated);
  return describeDestination(deps, updated);
}

function refuseAudienceWithoutAccount(): never {
  throw new ProblemError(400, ProblemKind.validation, 'Choose the ad account of the audience too.', [
    { field: 'body.adAccountId', message: 'required with audienceId while the destination has no ad account' },
  ]);
}

/**
 * Stops everything of the destination, then deletes it with its token and snapshots. Marked deleted first, so an
 * export starting meanwhile refuses; the audience is deleted (when asked) while the token still exists.
 */
export async function deleteDestination(deps: Deps, id: string, options: { deleteAudience: boolean }) {
  const d = await deps.store.destinations.setStatus(id, 'deleted');
  await deleteSchedule(deps.temporalClient, id);
  const cancelled = await cancelRunningExports(deps.temporalClient, id, 'the destination was deleted');
  if (options.deleteAudience && d.audienceId) {
    const token = await deps.store.credentials.getToken(id);
    await deps.graph.deleteAudience(d.audienceId, { token });
  }
  await deps.store.destinations.delete(id);
  deps.logger.info(
    { destinationId: id, cancelledExports: cancelled, audienceDeleted: options.deleteAudience },
    'destination deleted',
  );
}
