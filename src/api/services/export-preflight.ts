import { loadExportTarget } from '../../activities/start-or-join-export.js';
import { AuthError } from '../../facebook/index.js';
import { DestinationStatus, isReady, NotFoundError } from '../../store/index.js';
import type { ExportTarget } from '../../temporal/start-export.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';

type Deps = Pick<ApiDeps, 'store' | 'graph' | 'config' | 'now'>;

const refuse = (kind: ProblemKind, detail: string, field: string, message: string) =>
  new ProblemError(409, kind, detail, [{ field, message }]);

/**
 * Everything that would make the export fail at once, checked before it starts so the caller gets a 409 naming
 * what to fix instead of a failed run: the destination exists and is not deleted, consent is current, Facebook is
 * connected with a working token, and an export config exists. The workflow checks again (state may change).
 */
export async function preflightExport(deps: Deps, destinationId: string): Promise<ExportTarget> {
  const { store } = deps;
  const destination = await store.destinations.get(destinationId);
  const id = destination.id;
  if (destination.status === DestinationStatus.Deleted) {
    throw refuse(ProblemKind.conflict, `Destination ${id} is being deleted.`, 'params.id', 'destination deleted');
  }
  if (!isReady(destination)) {
    throw refuse(
      ProblemKind.conflict,
      `Choose the ad account and an existing or new audience first (PATCH /destinations/${id}).`,
      destination.adAccountId ? 'audienceId' : 'adAccountId',
      'not chosen yet',
    );
  }
  if (!(await store.consents.current(id))) {
    throw refuse(
      ProblemKind.conflict,
      `No current data privacy and compliance consent for this destination: record it (POST /destinations/${id}/consent).`,
      'consent',
      'no current consent',
    );
  }
  const credential = await store.credentials.describe(id);
  if (!credential) {
    throw refuse(
      ProblemKind.notConnected,
      `Connect Facebook for this destination first (GET /destinations/${id}/facebook/connect).`,
      'connection',
      'no Facebook connection',
    );
  }
  const now = (deps.now ?? Date.now)();
  if (credential.expiresAt && credential.expiresAt.getTime() <= now) throw await tokenBroken(deps, id, 'expired');
  if (deps.config.facebook.appId && deps.config.facebook.appSecret) {
    const info = await deps.graph.debugToken(await store.credentials.getToken(id)).catch((err: unknown) => {
      if (err instanceof AuthError) return undefined;
      throw err; // Facebook down: the error mapping answers 502
    });
    if (!info?.valid) throw await tokenBroken(deps, id, 'no longer valid');
    if (info.expiresAt && info.expiresAt.getTime() <= now) throw await tokenBroken(deps, id, 'expired');
  }
  return loadExportTarget(store, id).catch((err: unknown) => {
    if (err instanceof NotFoundError && err.entity === 'export config') {
      throw refuse(
        ProblemKind.conflict,
        `Set what to export first (PUT /destinations/${id}/export-config).`,
        'exportConfig',
        'no export config',
      );
    }
    throw err;
  });
}

async function tokenBroken(deps: Deps, destinationId: string, why: string): Promise<ProblemError> {
  await deps.store.destinations.setStatus(destinationId, DestinationStatus.NeedsReconnect);
  return refuse(
    ProblemKind.notConnected,
    `The Facebook token of this destination is ${why}: reconnect it (GET /destinations/${destinationId}/facebook/connect).`,
    'connection',
    `token ${why}`,
  );
}
