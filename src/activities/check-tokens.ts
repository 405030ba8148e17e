import { ApplicationFailure } from '@temporalio/activity';
import { AppCredentialsError, AuthError, type GraphClient } from '../facebook/index.js';
import type { Store } from '../store/index.js';
import { ExportFailureType } from '../workflows/contracts.js';

/** A token expiring within this is reported, so there is a week to reconnect before exports fail. */
export const TOKEN_WARNING_MS = 7 * 24 * 60 * 60 * 1000;
const REQUIRED_SCOPE = 'ads_management';

export interface TokenCheckDeps {
  store: Pick<Store, 'destinations' | 'credentials'>;
  graph: Pick<GraphClient, 'debugToken'>;
  now?: () => number;
}

/** Only destination ids travel back through Temporal: never tokens. */
export interface TokenCheckSummary {
  checked: number;
  /** Still working, but expiring within 7 days. */
  expiringSoon: string[];
  /** Invalid, expired, revoked or without ads_management: flagged `needs_reconnect`. */
  needsReconnect: string[];
}

/**
 * Checks every stored token with debug_token (reference 2.3). One that stopped working flags its destination
 * `needs_reconnect` (the API shows it; exports refuse with a clear message); a working one is marked verified.
 */
export async function checkAllTokens(deps: TokenCheckDeps): Promise<TokenCheckSummary> {
  const now = (deps.now ?? Date.now)();
  const summary: TokenCheckSummary = { checked: 0, expiringSoon: [], needsReconnect: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.store.destinations.list({ limit: 200, ...(cursor ? { cursor } : {}) });
    for (const d of page.items) {
      if (d.status === 'deleted' || !(await deps.store.credentials.describe(d.id))) continue;
      summary.checked++;
      const working = await checkOne(deps, d.id, now);
      if (working === 'broken') summary.needsReconnect.push(d.id);
      if (working === 'expiring') summary.expiringSoon.push(d.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return summary;
}

async function checkOne(
  deps: TokenCheckDeps,
  destinationId: string,
  now: number,
): Promise<'ok' | 'expiring' | 'broken'> {
  const token = await deps.store.credentials.getToken(destinationId);
  let info;
  try {
    info = await deps.graph.debugToken(token);
  } catch (err) {
    // Wrong app credentials fail every check alike: say so once, and flag no destination for it.
    if (err instanceof AppCredentialsError)
      throw ApplicationFailure.nonRetryable(err.message, ExportFailureType.AppCredentialsInvalid);
    if (!(err instanceof AuthError)) throw err; // transient: let Temporal retry the activity
    info = undefined;
  }
  const expired = info?.expiresAt != null && info.expiresAt.getTime() <= now;
  if (!info?.valid || expired || !info.scopes.includes(REQUIRED_SCOPE)) {
    const flagged = await deps.store.destinations.setStatus(destinationId, 'needs_reconnect');
    // Deleted while it was checked: it stays deleted, and there is nothing to reconnect.
    return flagged.status === 'deleted' ? 'ok' : 'broken';
  }
  await deps.store.credentials.markVerified(destinationId, new Date(now), {
    scopes: info.scopes,
    expiresAt: info.expiresAt,
  });
  return info.expiresAt != null && info.expiresAt.getTime() - now < TOKEN_WARNING_MS ? 'expiring' : 'ok';
}
