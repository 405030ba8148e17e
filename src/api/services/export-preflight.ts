import {
  destinationProblem,
  needsReconnect,
  ReadinessCheck,
  setupProblem,
  tokenProblem,
  type ReadinessDestination,
  type ReadinessProblem,
} from '../../domain/export-readiness.js';
import { AuthError, retryTransient } from '../../facebook/index.js';
import { DestinationStatus, NotFoundError, type ReadyDestination } from '../../store/index.js';
import { exportTargetOf, type ExportTarget } from '../../temporal/start-export.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';

type Deps = Pick<ApiDeps, 'store' | 'graph' | 'config' | 'now'>;

/** Problems solved by connecting Facebook answer `not-connected`; the others are plain conflicts. */
const CONNECTION_CHECKS: ReadonlySet<ReadinessCheck> = new Set([
  ReadinessCheck.NotConnected,
  ReadinessCheck.TokenInvalid,
  ReadinessCheck.PermissionMissing,
]);

/**
 * Everything that would make the export fail at once, checked before it starts so the caller gets a 409 naming
 * what to fix instead of a failed run. The checks and their words are the run's own (domain/export-readiness.ts);
 * the run checks again when it starts (state may change), and checks Facebook's side (terms, the audience) too.
 */
export async function preflightExport(deps: Deps, destinationId: string): Promise<ExportTarget> {
  const { store } = deps;
  const destination = await store.destinations.get(destinationId);
  const id = destination.id;
  const subject: ReadinessDestination = { ...destination, deleted: destination.status === DestinationStatus.Deleted };
  const incomplete = destinationProblem(subject);
  if (incomplete) throw await refusal(deps, id, incomplete);
  const config = await store.exportConfigs.get(id).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  const credential = await store.credentials.describe(id);
  const setup = setupProblem(subject, {
    consentCurrent: (await store.consents.current(id)) !== null,
    hasExportConfig: config !== undefined,
    connected: credential !== null,
  });
  if (setup || !config || !credential) throw await refusal(deps, id, setup!);

  const now = (deps.now ?? Date.now)();
  const stored = tokenProblem(subject, { valid: true, expiresAt: credential.expiresAt }, now);
  if (stored) throw await refusal(deps, id, stored);
  // Asking Facebook needs our app's credentials; without them the run's validation is the only token check.
  if (deps.config.facebook.appId && deps.config.facebook.appSecret) {
    const token = await store.credentials.getToken(id);
    // A transient answer is asked again a few times before the caller hears 502 (the error mapping's).
    const info = await retryTransient(() => deps.graph.debugToken(token)).catch((err: unknown) => {
      if (err instanceof AuthError) return { valid: false, expiresAt: null };
      throw err;
    });
    const broken = tokenProblem(subject, info, now);
    if (broken) throw await refusal(deps, id, broken);
  }
  // destinationProblem refuses exactly the destinations isReady does not accept.
  return exportTargetOf(destination as ReadyDestination, config);
}

/** The problem as a 409 naming the field to fix; a token problem marks the destination for reconnecting. */
async function refusal(deps: Deps, destinationId: string, problem: ReadinessProblem): Promise<ProblemError> {
  if (needsReconnect(problem)) {
    await deps.store.destinations.setStatus(destinationId, DestinationStatus.NeedsReconnect);
  }
  const kind = CONNECTION_CHECKS.has(problem.check) ? ProblemKind.notConnected : ProblemKind.conflict;
  return new ProblemError(409, kind, problem.message, [{ field: problem.field, message: problem.reason }]);
}
