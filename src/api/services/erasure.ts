import { CANONICAL_SCHEMA, type Cell } from '../../domain/canonical-row.js';
import { toAdAccountId } from '../../facebook/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { erasureIdentifiers, identifierOnlyRow, rowHoldsIdentifier, type ErasureIdentifier } from './erasure-rows.js';
import { withToken } from './facebook-connection.js';

type Deps = Pick<ApiDeps, 'config' | 'store' | 'graph' | 'logger'>;

export interface ErasureRequest {
  adAccountId?: string | undefined;
  destinationId?: string | undefined;
  email?: string | undefined;
  phone?: string | undefined;
  country?: string | undefined;
}

/** Counts only: the identifiers never go back out (nor into logs). */
export interface ErasureResult {
  adAccountId: string;
  audiencesSearched: number;
  snapshotRowsMatched: number;
  rowsSent: number;
  numReceived: number;
  snapshotRowsDeleted: number;
}

/** Meta's limit on rows per users call (reference 4.2). */
const MAX_ROWS_PER_CALL = 10_000;

/**
 * Snapshot rows of these audiences holding an identifier in its own column (the store narrows by the hashes in SQL;
 * a hash elsewhere in a row is not a match).
 */
async function matchingSnapshotRows(
  deps: Deps,
  audienceIds: readonly string[],
  identifiers: readonly ErasureIdentifier[],
): Promise<MatchedRow[]> {
  const rows = await deps.store.snapshots.rowsHoldingHashes(
    audienceIds,
    identifiers.map((i) => i.hash),
  );
  return rows.flatMap((r) => {
    if (!rowHoldsIdentifier(r.cells, identifiers)) return [];
    return [{ ...r, fingerprint: Buffer.from(r.fingerprint) }];
  });
}

interface MatchedRow {
  audienceId: string;
  profileKey: string;
  fingerprint: Buffer;
  cells: readonly Cell[];
}

const badField = (field: string, message: string, detail: string) =>
  new ProblemError(400, ProblemKind.validation, detail, [{ field, message }]);

/** A draft destination has no ad account yet, so nothing of the person can be in its audience. */
async function adAccountOf(deps: Deps, destinationId: string): Promise<string> {
  const { adAccountId } = await deps.store.destinations.get(destinationId);
  if (adAccountId) return adAccountId;
  throw new ProblemError(409, ProblemKind.conflict, `Destination ${destinationId} has no ad account chosen yet.`, [
    { field: 'body.destinationId', message: 'no ad account' },
  ]);
}

/**
 * Removes a person from every audience of an ad account (`DELETE /act_<id>/usersofanyaudience`) and from our
 * snapshots. It sends the exact rows we sent that carry the person's e-mail or phone (Meta removes exact rows in
 * the sandbox and matches people at Meta), plus a row with only each identifier, so rows we never sent go too.
 * Snapshot rows are deleted only after Meta accepted the removal, so a failure leaves the request repeatable.
 * The person stays in the source: remove them there too, or the next export adds them back.
 */
export async function erasePerson(deps: Deps, request: ErasureRequest): Promise<ErasureResult> {
  const adAccountId = request.destinationId
    ? await adAccountOf(deps, request.destinationId)
    : toAdAccountId(request.adAccountId ?? '');
  const destinations = await deps.store.destinations.ofAdAccount(adAccountId);
  const tokenHolder =
    destinations.find((d) => d.id === request.destinationId && d.hasToken) ?? destinations.find((d) => d.hasToken);
  if (!tokenHolder) {
    throw new ProblemError(
      409,
      ProblemKind.notConnected,
      `No destination of ad account ${adAccountId} has a Facebook connection; connect one, then repeat the request.`,
      [{ field: request.destinationId ? 'body.destinationId' : 'body.adAccountId', message: 'no Facebook connection' }],
    );
  }
  const { identifiers, unusable } = erasureIdentifiers({
    email: request.email,
    phone: request.phone,
    country: request.country,
    defaultCountry:
      (destinations.find((d) => d.id === request.destinationId) ?? tokenHolder).defaultCountry ?? undefined,
  });
  const [field] = unusable;
  if (field !== undefined) {
    throw badField(
      `body.${field}`,
      `not a usable ${field === 'email' ? 'e-mail address' : 'phone number'}`,
      field === 'phone'
        ? 'The phone number does not normalise; give it with its +country code or give country.'
        : 'The e-mail address does not normalise; check it.',
    );
  }

  const audienceIds = [...new Set(destinations.flatMap((d) => (d.audienceId ? [d.audienceId] : [])))];
  const matched = await matchingSnapshotRows(deps, audienceIds, identifiers);
  const data: (readonly Cell[])[] = [...matched.map((m) => m.cells), ...identifiers.map(identifierOnlyRow)];
  let numReceived = 0;
  for (let from = 0; from < data.length; from += MAX_ROWS_PER_CALL) {
    const result = await withToken(deps, tokenHolder.id, (token) =>
      deps.graph.removeFromAllAudiences(
        adAccountId,
        { schema: [...CANONICAL_SCHEMA], data: data.slice(from, from + MAX_ROWS_PER_CALL) },
        { token },
      ),
    );
    numReceived += result.numReceived;
  }

  let snapshotRowsDeleted = 0;
  for (const audienceId of new Set(matched.map((m) => m.audienceId))) {
    snapshotRowsDeleted += await deps.store.snapshots.deleteRows(
      audienceId,
      matched.filter((m) => m.audienceId === audienceId),
    );
  }
  deps.logger.info(
    { adAccountId, audiences: audienceIds.length, matched: matched.length, deleted: snapshotRowsDeleted },
    'erasure request carried out',
  );
  return {
    adAccountId,
    audiencesSearched: audienceIds.length,
    snapshotRowsMatched: matched.length,
    rowsSent: data.length,
    numReceived,
    snapshotRowsDeleted,
  };
}
