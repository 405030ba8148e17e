import { log } from '@temporalio/activity';
import type { Audience } from '../facebook/index.js';
import { DestinationStatus, isReady, NotFoundError, type Destination, type ReadyDestination } from '../store/index.js';
import { ExportFailureType, type ExportPlan } from '../workflows/contracts.js';
import type { ExportTrigger } from '../workflows/search-attributes.js';
import type { ActivityDeps } from './deps.js';
import { awaitAdAccount, classifyFailure, nonRetryable } from './failures.js';

export interface ValidateExportInput {
  runId: string;
  destinationId: string;
  trigger: ExportTrigger;
  workflowId: string;
  temporalRunId: string;
}

/** Operation statuses that mean the audience cannot take an upload now (reference 3.1). */
const BUSY_OPERATION_STATUS = new Set([414]);
const FLAGGED_OPERATION_STATUS = new Set([471]);

/**
 * Checks everything an export needs before it touches any profile, and records the run. Every refusal is
 * non-retryable and names what the operator must do; token and terms problems also mark the destination.
 */
export async function validateExport(deps: ActivityDeps, input: ValidateExportInput): Promise<ExportPlan> {
  const { store, graph } = deps;
  const destination = await loadDestination(deps, input.destinationId);
  if (destination.status === DestinationStatus.Deleted) {
    throw nonRetryable(ExportFailureType.DestinationNotFound, `Destination ${destination.id} is being deleted.`);
  }
  if (!isReady(destination)) throw incomplete(destination);
  // Recorded before any check, so a refused run is in the history (API, metrics, webhook) with its reason.
  const configured = await store.exportConfigs.get(destination.id).catch(() => undefined);
  await store.exportRuns.create({
    id: input.runId,
    destinationId: destination.id,
    adAccountId: destination.adAccountId,
    audienceId: destination.audienceId,
    segments: [...(configured?.segments ?? [])],
    mode: configured?.mode ?? 'mirror',
    trigger: input.trigger,
    workflowId: input.workflowId,
    temporalRunId: input.temporalRunId,
  });
  if (!(await store.consents.current(destination.id))) {
    throw nonRetryable(
      ExportFailureType.ConsentMissing,
      `No data privacy and compliance consent is recorded for destination '${destination.displayName}': ` +
        `record it (POST /destinations/${destination.id}/consent) before exporting.`,
    );
  }
  const config = await store.exportConfigs.get(destination.id).catch((err: unknown) => {
    if (err instanceof NotFoundError) {
      throw nonRetryable(
        ExportFailureType.ExportConfigMissing,
        `Destination '${destination.displayName}' has no export configuration: set its key identifier, mapping and ` +
          `segments (PUT /destinations/${destination.id}/export-config).`,
      );
    }
    throw err;
  });

  const token = await store.credentials.getToken(destination.id).catch((err: unknown) => {
    if (err instanceof NotFoundError) {
      throw nonRetryable(
        ExportFailureType.FacebookNotConnected,
        `Destination '${destination.displayName}' is not connected to Facebook: connect it ` +
          `(GET /destinations/${destination.id}/facebook/connect) or give a system-user token.`,
      );
    }
    throw err;
  });

  await awaitAdAccount(store, destination.adAccountId);
  try {
    await checkToken(deps, destination, token);
    const account = await graph.getAdAccount(destination.adAccountId, { token });
    if (!account.customAudienceTermsAccepted) {
      await store.destinations.setStatus(destination.id, DestinationStatus.NeedsTerms);
      throw nonRetryable(
        ExportFailureType.TermsNotAccepted,
        `Ad account ${destination.adAccountId} has not accepted Facebook's Custom Audience terms: a person with a ` +
          `role on the account must accept them at ${account.termsUrl}, then run the export again.`,
      );
    }
    const audience = await resolveAudience(deps, destination, token);
    if (destination.status !== DestinationStatus.Active) {
      await store.destinations.setStatus(destination.id, DestinationStatus.Active);
    }
    // Always: a retried validation finds the audience its first attempt created, with the run still without it.
    await store.exportRuns.updateProgress(input.runId, { audienceId: audience.id });
    log.info('export validated', { runId: input.runId, audienceId: audience.id, mode: config.mode });
    return {
      runId: input.runId,
      destinationId: destination.id,
      destinationName: destination.displayName,
      adAccountId: destination.adAccountId,
      audienceId: audience.id,
      audienceName: audience.name ?? destination.newAudienceName ?? audience.id,
      segments: [...config.segments],
      mode: config.mode,
      audienceHasMembers: (audience.sizeUpperBound ?? 0) > 0,
    };
  } catch (err) {
    throw await classifyFailure(err, store, destination.id);
  }
}

/** Only a destination created over the API and never finished reaches here: the API refuses to start its export. */
const incomplete = (d: Destination) =>
  nonRetryable(
    ExportFailureType.DestinationIncomplete,
    `Destination '${d.displayName}' has no ad account or audience chosen yet: choose them ` +
      `(PATCH /destinations/${d.id}) before exporting.`,
  );

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

async function checkToken(deps: ActivityDeps, destination: Destination, token: string): Promise<void> {
  const info = await deps.graph.debugToken(token);
  const expired = info.expiresAt !== null && info.expiresAt.getTime() <= Date.now();
  if (!info.valid || expired) {
    await deps.store.destinations.setStatus(destination.id, DestinationStatus.NeedsReconnect);
    const why = expired
      ? `the token expired on ${info.expiresAt!.toISOString()}`
      : info.invalidReason === 'other_app'
        ? 'the token was issued for another Facebook app'
        : 'the token is no longer valid';
    throw nonRetryable(
      ExportFailureType.TokenInvalid,
      `Reconnect Facebook for destination '${destination.displayName}': ${why}.`,
    );
  }
  if (!info.scopes.includes('ads_management')) {
    await deps.store.destinations.setStatus(destination.id, DestinationStatus.NeedsReconnect);
    throw nonRetryable(
      ExportFailureType.PermissionMissing,
      `Reconnect Facebook for destination '${destination.displayName}' and grant ads_management: the token lacks it.`,
    );
  }
}

/** The destination's audience, checked to be a customer list that can take an upload now; created when asked. */
async function resolveAudience(deps: ActivityDeps, destination: ReadyDestination, token: string): Promise<Audience> {
  const { graph, store } = deps;
  if (!destination.audienceId) {
    const name = destination.newAudienceName ?? destination.displayName;
    const created = await graph.createAudience(
      destination.adAccountId,
      { name, description: `Exported by audience-export for destination ${destination.id}` },
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
  if (op !== undefined && FLAGGED_OPERATION_STATUS.has(op)) {
    throw nonRetryable(
      ExportFailureType.AudienceUnusable,
      `Audience ${audience.id} is flagged by Facebook (operation status ${op}) and cannot be edited: resolve it in ` +
        'Audience Manager, then run the export again.',
    );
  }
  if (op !== undefined && BUSY_OPERATION_STATUS.has(op)) {
    throw nonRetryable(
      ExportFailureType.AudienceBusy,
      `Audience ${audience.id} is busy (operation status ${op}: a replace is in progress): run the export again ` +
        'once it finishes.',
    );
  }
  return audience;
}
