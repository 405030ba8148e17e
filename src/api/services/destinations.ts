import { toAdAccountId } from '../../facebook/index.js';
import type { ApiDeps } from '../deps.js';
import { cancelRunningExports, deleteSchedule } from './temporal-control.js';
import { connectionView, consentView, destinationView } from './views.js';

type Deps = Pick<ApiDeps, 'store' | 'graph' | 'temporalClient' | 'config' | 'logger'> & { now?: () => number };

export async function describeDestination(deps: Deps, id: string) {
  const d = await deps.store.destinations.get(id);
  const [credential, consent] = await Promise.all([
    deps.store.credentials.describe(id),
    deps.store.consents.current(id),
  ]);
  return {
    ...destinationView(d),
    connection: connectionView(d, credential, (deps.now ?? Date.now)()),
    consent: consentView(consent),
  };
}

export async function createDestination(
  deps: Deps,
  input: { displayName: string; adAccountId: string; audienceId?: string; newAudienceName?: string },
) {
  const d = await deps.store.destinations.create({
    displayName: input.displayName,
    facebookAppId: deps.config.facebook.appId ?? '',
    adAccountId: toAdAccountId(input.adAccountId),
    audienceId: input.audienceId ?? null,
    newAudienceName: input.newAudienceName ?? null,
  });
  return destinationView(d);
}

export async function updateDestination(
  deps: Deps,
  id: string,
  changes: { displayName?: string; adAccountId?: string; audienceId?: string; newAudienceName?: string },
) {
  const d = await deps.store.destinations.update(id, {
    ...changes,
    ...(changes.adAccountId !== undefined ? { adAccountId: toAdAccountId(changes.adAccountId) } : {}),
  });
  return destinationView(d);
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
