import { consentStatement, CURRENT_CONSENT_STATEMENT } from '../../domain/consent-statements.js';
import type { ConsentRecord } from '../../store/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { cancelRunningExports, pauseSchedule } from './temporal-control.js';

type Deps = Pick<ApiDeps, 'store' | 'temporalClient' | 'logger'>;

export const consentRecordView = (c: ConsentRecord) => ({
  id: c.id,
  givenBy: c.givenBy,
  givenByKey: c.givenByKey,
  givenAt: c.givenAt.toISOString(),
  statementVersion: c.statementVersion,
  withdrawnAt: c.withdrawnAt?.toISOString() ?? null,
  withdrawnBy: c.withdrawnBy,
  withdrawnByKey: c.withdrawnByKey,
});

/**
 * Records consent to a published statement version: a record must say which text was agreed to, and which API key
 * (`keyName`) recorded it beside the caller's own words in givenBy.
 */
export async function giveConsent(
  deps: Deps,
  destinationId: string,
  input: { givenBy: string; statementVersion: string },
  keyName: string,
) {
  if (!consentStatement(input.statementVersion)) {
    throw new ProblemError(
      400,
      ProblemKind.validation,
      `Agree to a published statement: the current one is ${CURRENT_CONSENT_STATEMENT.version} (GET /consent-statements).`,
      [{ field: 'body.statementVersion', message: 'no such statement version' }],
    );
  }
  await deps.store.destinations.get(destinationId);
  const record = await deps.store.consents.record(destinationId, { ...input, givenByKey: keyName });
  deps.logger.info({ destinationId, statementVersion: input.statementVersion }, 'consent given');
  return consentRecordView(record);
}

/**
 * Withdraws consent, then stops what depended on it: running exports are cancelled and the schedule paused (not
 * deleted, so giving consent again and resuming restores it).
 */
export async function withdrawConsent(deps: Deps, destinationId: string, withdrawnBy: string, keyName: string) {
  await deps.store.destinations.get(destinationId);
  const withdrawn = await deps.store.consents.withdraw(destinationId, { withdrawnBy, withdrawnByKey: keyName });
  await pauseSchedule(deps.temporalClient, destinationId, 'consent withdrawn');
  const cancelledExports = await cancelRunningExports(
    deps.temporalClient,
    destinationId,
    'the data privacy and compliance consent was withdrawn',
  );
  deps.logger.info({ destinationId, cancelledExports }, 'consent withdrawn');
  return { withdrawn: withdrawn.map(consentRecordView), cancelledExports, schedulePaused: true };
}
