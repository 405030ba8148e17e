import { CANONICAL_SCHEMA, type Cell } from '../../domain/canonical-row.js';
import type { SuppressionEntry } from '../../domain/suppression.js';
import { toAdAccountId } from '../../facebook/index.js';
import type { AccountDestination } from '../../store/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import {
  erasureIdentifiers,
  identifierOnlyRow,
  needlesOf,
  profileKeyEntry,
  rowHoldsIdentifier,
  suppressionEntryOf,
  type ErasureField,
  type ErasureIdentifier,
  type ErasureInput,
} from './erasure-rows.js';
import { withToken } from './facebook-connection.js';

type Deps = Pick<ApiDeps, 'config' | 'store' | 'graph' | 'logger'>;

export interface ErasureRequest extends ErasureInput {
  adAccountId?: string | undefined;
  destinationId?: string | undefined;
  profileKey?: string | undefined;
}

/** Counts only: the identifiers never go back out (nor into logs). */
export interface ErasureCounts {
  audiencesSearched: number;
  snapshotRowsMatched: number;
  rowsSent: number;
  numReceived: number;
  snapshotRowsDeleted: number;
}

export interface ErasureResult extends ErasureCounts {
  /** What was done in each ad account reached. */
  adAccounts: (ErasureCounts & { adAccountId: string })[];
  /** Ad accounts we export to that no destination's Facebook connection reaches: nothing was removed there. */
  unreachedAdAccounts: string[];
  /** Entries the suppression list gained (those listed already are not counted). */
  suppressionEntriesAdded: number;
}

/** Meta's limit on rows per users call (reference 4.2). */
const MAX_ROWS_PER_CALL = 10_000;

const FIELD_PROBLEMS: Record<ErasureField, string> = {
  email: 'The e-mail address does not normalise; check it.',
  phone: 'The phone number does not normalise; give it with its +country code or give country.',
  externId: 'externId is blank.',
  madid: 'madid is not a mobile advertiser id (no spaces).',
  firstName: 'The first name has no letters.',
  lastName: 'The last name has no letters.',
  zip: 'The ZIP code does not normalise in its country; give country.',
};

const badField = (field: ErasureField) =>
  new ProblemError(400, ProblemKind.validation, FIELD_PROBLEMS[field], [
    { field: `body.${field}`, message: 'not usable' },
  ]);

/** A draft destination has no ad account yet, so nothing of the person can be in its audience. */
async function adAccountOf(deps: Deps, destinationId: string): Promise<string> {
  const { adAccountId } = await deps.store.destinations.get(destinationId);
  if (adAccountId) return adAccountId;
  throw new ProblemError(409, ProblemKind.conflict, `Destination ${destinationId} has no ad account chosen yet.`, [
    { field: 'body.destinationId', message: 'no ad account' },
  ]);
}

interface MatchedRow {
  audienceId: string;
  profileKey: string;
  fingerprint: Buffer;
  cells: readonly Cell[];
  dropped: boolean;
}

interface AccountScope {
  adAccountId: string;
  destinations: AccountDestination[];
  /** The destination whose connection calls Meta; undefined when none of the account's has one. */
  tokenHolder: AccountDestination | undefined;
  audienceIds: string[];
}

async function scopeOf(deps: Deps, request: ErasureRequest): Promise<AccountScope[]> {
  const named = request.destinationId
    ? await adAccountOf(deps, request.destinationId)
    : request.adAccountId
      ? toAdAccountId(request.adAccountId)
      : undefined;
  const accounts = named ? [named] : await deps.store.destinations.adAccountIds();
  const scopes: AccountScope[] = [];
  for (const adAccountId of accounts) {
    const destinations = await deps.store.destinations.ofAdAccount(adAccountId);
    const tokenHolder =
      destinations.find((d) => d.id === request.destinationId && d.hasToken) ?? destinations.find((d) => d.hasToken);
    if (named && !tokenHolder) {
      throw new ProblemError(
        409,
        ProblemKind.notConnected,
        `No destination of ad account ${adAccountId} has a Facebook connection; connect one, then repeat the request.`,
        [
          {
            field: request.destinationId ? 'body.destinationId' : 'body.adAccountId',
            message: 'no Facebook connection',
          },
        ],
      );
    }
    const audienceIds = [...new Set(destinations.flatMap((d) => (d.audienceId ? [d.audienceId] : [])))];
    scopes.push({ adAccountId, destinations, tokenHolder, audienceIds });
  }
  return scopes;
}

/** Snapshot rows of the audiences that are the person's: by profile key, or holding an identifier in its column. */
async function matchingSnapshotRows(
  deps: Deps,
  audienceIds: readonly string[],
  identifiers: readonly ErasureIdentifier[],
  profileKeys: readonly string[],
): Promise<MatchedRow[]> {
  const rows = await deps.store.snapshots.rowsMatching(audienceIds, { needles: needlesOf(identifiers), profileKeys });
  const byKey = new Set(profileKeys);
  return rows.flatMap((r) => {
    if (!byKey.has(r.profileKey) && !rowHoldsIdentifier(r.cells, identifiers)) return [];
    return [{ ...r, fingerprint: Buffer.from(r.fingerprint) }];
  });
}

/**
 * Erases a person: lists them on the suppression list (digests only), so no later export adds them back, then in
 * every ad account we export to (or the one named) removes them from every audience (`DELETE
 * /act_<id>/usersofanyaudience`) and from our snapshots. It sends the exact rows we sent that are the person's (by
 * profile key or identifier: Meta removes exact rows in the sandbox and matches people at Meta), plus a row with only
 * each identifier, so rows we never sent go too. Snapshot rows are deleted only after Meta accepted the removal, so a
 * failure leaves the request repeatable; an account no connection reaches keeps its rows and is reported.
 */
export async function erasePerson(deps: Deps, request: ErasureRequest): Promise<ErasureResult> {
  const scopes = await scopeOf(deps, request);
  const defaultCountries = scopes.flatMap((s) => s.destinations.map((d) => d.defaultCountry ?? undefined));
  const { identifiers, unusable } = erasureIdentifiers(request, defaultCountries);
  const [field] = unusable;
  if (field !== undefined) throw badField(field);
  const profileKey = request.profileKey;

  // Listed before each search of the snapshots, each time waiting for the snapshot writes in flight: a page recorded
  // before a listing is in the snapshot for the search after it, and a page recorded after it leaves them out
  // (store suppressions `add`). First what the request names, then the profiles found holding an identifier.
  const named: SuppressionEntry[] = [
    ...identifiers.map(suppressionEntryOf),
    ...(profileKey === undefined ? [] : [profileKeyEntry(profileKey)]),
  ];
  let suppressionEntriesAdded = await deps.store.suppressions.add(named);
  // The profiles holding an identifier anywhere are the person: all their rows go, in every account searched.
  const keys = new Set<string>(profileKey === undefined ? [] : [profileKey]);
  for (const scope of scopes) {
    for (const row of await matchingSnapshotRows(deps, scope.audienceIds, identifiers, [])) keys.add(row.profileKey);
  }
  const found = [...keys].filter((k) => k !== profileKey).map(profileKeyEntry);
  suppressionEntriesAdded += await deps.store.suppressions.add(found);
  const matchedByAccount = new Map<string, MatchedRow[]>();
  for (const scope of scopes) {
    matchedByAccount.set(
      scope.adAccountId,
      await matchingSnapshotRows(deps, scope.audienceIds, identifiers, [...keys]),
    );
  }

  const adAccounts: ErasureResult['adAccounts'] = [];
  const unreachedAdAccounts: string[] = [];
  for (const scope of scopes) {
    if (!scope.tokenHolder) {
      unreachedAdAccounts.push(scope.adAccountId);
      continue;
    }
    const matched = matchedByAccount.get(scope.adAccountId) ?? [];
    adAccounts.push({
      adAccountId: scope.adAccountId,
      ...(await eraseInAccount(deps, scope, scope.tokenHolder.id, matched, identifiers)),
    });
  }
  const total = (k: keyof ErasureCounts) => adAccounts.reduce((n, a) => n + a[k], 0);
  deps.logger.info(
    {
      adAccounts: adAccounts.length,
      unreached: unreachedAdAccounts.length,
      matched: total('snapshotRowsMatched'),
      deleted: total('snapshotRowsDeleted'),
      suppressionEntriesAdded,
    },
    'erasure request carried out',
  );
  return {
    audiencesSearched: total('audiencesSearched'),
    snapshotRowsMatched: total('snapshotRowsMatched'),
    rowsSent: total('rowsSent'),
    numReceived: total('numReceived'),
    snapshotRowsDeleted: total('snapshotRowsDeleted'),
    adAccounts,
    unreachedAdAccounts,
    suppressionEntriesAdded,
  };
}

async function eraseInAccount(
  deps: Deps,
  scope: AccountScope,
  tokenHolderId: string,
  matched: readonly MatchedRow[],
  identifiers: readonly ErasureIdentifier[],
): Promise<ErasureCounts> {
  // A dropped row was never sent: it only goes from our snapshot.
  const data: (readonly Cell[])[] = [
    ...matched.filter((m) => !m.dropped).map((m) => m.cells),
    ...identifiers.map(identifierOnlyRow),
  ];
  let numReceived = 0;
  for (let from = 0; from < data.length; from += MAX_ROWS_PER_CALL) {
    const result = await withToken(deps, tokenHolderId, (token) =>
      deps.graph.removeFromAllAudiences(
        scope.adAccountId,
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
  return {
    audiencesSearched: scope.audienceIds.length,
    snapshotRowsMatched: matched.filter((m) => !m.dropped).length,
    rowsSent: data.length,
    numReceived,
    snapshotRowsDeleted,
  };
}
