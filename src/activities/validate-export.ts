import { log } from '@temporalio/activity';
import { OperationStatus, type Audience } from '../facebook/index.js';
import {
  destinationProblem,
  needsReconnect,
  ReadinessCheck,
  setupProblem,
  tokenProblem,
  type ReadinessDestination,
  type ReadinessProblem,
} from '../domain/export-readiness.js';
import {
  audienceNameOf,
  DestinationStatus,
  frozenExportConfig,
  NotFoundError,
  type Destination,
  type ReadyDestination,
} from '../store/index.js';
import { plaintextMappingProblems } from '../domain/mapping.js';
import { ExportFailureType, type ExportPlan } from '../workflows/contracts.js';
import type { ExportTrigger } from '../domain/export-terms.js';
import type { ActivityDeps } from './deps.js';
import { awaitAdAccount, classifyFailure, nonRetryable } from './failures.js';

export interface ValidateExportInput {
  runId: string;
  destinationId: string;
  trigger: ExportTrigger;
  workflowId: string;
  temporalRunId: string;
}

/** What each readiness check's refusal is called in the workflow's history. */
const FAILURE_TYPE: Record<ReadinessCheck, ExportFailureType> = {
  [ReadinessCheck.DestinationDeleted]: ExportFailureType.DestinationNotFound,
  [ReadinessCheck.DestinationIncomplete]: ExportFailureType.DestinationIncomplete,
  [ReadinessCheck.ConsentMissing]: ExportFailureType.ConsentMissing,
  [ReadinessCheck.ExportConfigMissing]: ExportFailureType.ExportConfigMissing,
  [ReadinessCheck.NotConnected]: ExportFailureType.FacebookNotConnected,
  [ReadinessCheck.TokenInvalid]: ExportFailureType.TokenInvalid,
  [ReadinessCheck.PermissionMissing]: ExportFailureType.PermissionMissing,
};

/**
 * Checks everything an export needs before it touches any profile, and records the run with the export config
 * it will use (later steps read that, so a config changed mid-run does not change the pages still to send).
 * The store-side checks are the API's (domain/export-readiness.ts); Facebook-side ones follow. Every refusal is
 * non-retryable and names what the operator must do; token and terms problems also mark the destination.
 */
export async function validateExport(deps: ActivityDeps, input: ValidateExportInput): Promise<ExportPlan> {
  const { store, graph } = deps;
  const destination = await loadDestination(deps, input.destinationId);
  const subject = readinessSubject(destination);
  const incomplete = destinationProblem(subject);
  if (incomplete) throw await refusal(deps, destination.id, incomplete);
  // destinationProblem refuses exactly the destinations isReady does not accept.
  const ready = destination as ReadyDestination;
  const config = await store.exportConfigs.get(destination.id).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  // Recorded before the other checks, so a refused run is in the history (API, metrics, webhook) with its reason.
  await store.exportRuns.create({
    id: input.runId,
    destinationId: ready.id,
    adAccountId: ready.adAccountId,
    audienceId: ready.audienceId,
    segments: [...(config?.segments ?? [])],
    mode: config?.mode ?? 'mirror',
    trigger: input.trigger,
    workflowId: input.workflowId,
    temporalRunId: input.temporalRunId,
    ...(config ? { exportConfig: frozenExportConfig(config) } : {}),
  });
  const setup = setupProblem(subject, {
    consentCurrent: (await store.consents.current(ready.id)) !== null,
    hasExportConfig: config !== undefined,
    connected: (await store.credentials.describe(ready.id)) !== null,
  });
  if (setup || !config) throw await refusal(deps, ready.id, setup!);
  // Saved configs are checked again: the profile source's plaintextColumns may have changed since.
  const [clear] = plaintextMappingProblems(config.mapping, deps.source.plaintextColumns);
  if (clear)
    throw nonRetryable(ExportFailureType.ExportConfigRefused, `Export config ${clear.field}: ${clear.message}`);
  const token = await store.credentials.getToken(ready.id);

  await awaitAdAccount(store, ready.adAccountId);
  try {
    const info = await graph.debugToken(token);
    const broken = tokenProblem(subject, info, Date.now());
    if (broken) throw await refusal(deps, ready.id, broken);
    const account = await graph.getAdAccount(ready.adAccountId, { token });
    if (!account.customAudienceTermsAccepted) {
      await store.destinations.setStatus(ready.id, DestinationStatus.NeedsTerms);
      throw nonRetryable(
        ExportFailureType.TermsNotAccepted,
        `Ad account ${ready.adAccountId} has not accepted Facebook's Custom Audience terms: a person with a ` +
          `role on the account must accept them at ${account.termsUrl}, then run the export again.`,
      );
    }
    const audience = await resolveAudience(deps, ready, token);
    if (ready.status !== DestinationStatus.Active) {
      await store.destinations.setStatus(ready.id, DestinationStatus.Active);
    }
    // Always: a retried validation finds the audience its first attempt created, with the run still without it.
    await store.exportRuns.updateProgress(input.runId, { audienceId: audience.id });
    log.info('export validated', { runId: input.runId, audienceId: audience.id, mode: config.mode });
    return {
      runId: input.runId,
      destinationId: ready.id,
      destinationName: ready.displayName,
      adAccountId: ready.adAccountId,
      audienceId: audience.id,
      audienceName: audience.name ?? ready.newAudienceName ?? audience.id,
      segments: [...config.segments],
      mode: config.mode,
      audienceHasMembers: (audience.sizeUpperBound ?? 0) > 0,
    };
  } catch (err) {
    throw await classifyFailure(err, store, ready.id);
  }
}

const readinessSubject = (d: Destination): ReadinessDestination => ({
  ...d,
  deleted: d.status === DestinationStatus.Deleted,
});

/** The readiness problem as a non-retryable failure; a token problem marks the destination for reconnecting. */
async function refusal(deps: ActivityDeps, destinationId: string, problem: ReadinessProblem) {
  if (needsReconnect(problem)) {
    await deps.store.destinations.setStatus(destinationId, DestinationStatus.NeedsReconnect);
  }
  return nonRetryable(FAILURE_TYPE[problem.check], problem.message);
}

async function loadDestination(deps: ActivityDeps, id: string): Promise<Destination> {
  try {
    return await deps.store.destinations.get(id);
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw nonRetryable(ExportFailureType.DestinationNotFound, `Destination ${id} does not exist (deleted?).`);
    }
    throw err;
  }
}

/** The destination's audience, checked to be a customer list that can take an upload now; created when asked. */
async function resolveAudience(deps: ActivityDeps, destination: ReadyDestination, token: string): Promise<Audience> {
  const { graph, store } = deps;
  if (!destination.audienceId) {
    const created = await graph.createAudience(
      destination.adAccountId,
      {
        name: audienceNameOf(destination),
        description: `Exported by audience-export for destination ${destination.id}`,
      },
      { token },
    );
    await store.destinations.setAudience(destination.id, created.id);
    return graph.getAudience(created.id, { token });
  }
  const audience = await graph.getAudience(destination.audienceId, { token });
  if (audience.subtype && audience.subtype !== 'CUSTOM') {
    throw nonRetryable(
      ExportFailureType.AudienceUnusable,
      `Audience ${audience.id} is a ${audience.subtype} audience, not a customer list: point the destination at a ` +
        'customer-list audience or let it create one.',
    );
  }
  const op = audience.operationStatus?.code;
  if (op === OperationStatus.Flagged) {
    throw nonRetryable(
      ExportFailureType.AudienceUnusable,
      `Audience ${audience.id} is flagged by Facebook (operation status ${op}) and cannot be edited: resolve it in ` +
        'Audience Manager, then run the export again.',
    );
  }
  if (op === OperationStatus.ReplaceInProgress) {
    throw nonRetryable(
      ExportFailureType.AudienceBusy,
      `Audience ${audience.id} is busy (operation status ${op}: a replace is in progress): run the export again ` +
        'once it finishes.',
    );
  }
  return audience;
}
