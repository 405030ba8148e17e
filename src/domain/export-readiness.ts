/**
 * Whether a destination can export now, from what our store knows: the one set of checks (and words) that the
 * API runs before it starts an export and that the run's validation runs again when it starts (state may have
 * changed in between). Facebook-side checks (ad account terms, the audience) stay with the run's validation.
 */

/** Which check failed; callers map it to an HTTP problem or a workflow failure type. */
export const ReadinessCheck = {
  DestinationDeleted: 'destination_deleted',
  DestinationIncomplete: 'destination_incomplete',
  ConsentMissing: 'consent_missing',
  ExportConfigMissing: 'export_config_missing',
  NotConnected: 'not_connected',
  TokenInvalid: 'token_invalid',
  PermissionMissing: 'permission_missing',
} as const;
export type ReadinessCheck = (typeof ReadinessCheck)[keyof typeof ReadinessCheck];

export interface ReadinessProblem {
  check: ReadinessCheck;
  /** The field an API answer names: what to fix. */
  field: string;
  /** A few words for that field. */
  reason: string;
  /** What is wrong and what to do, in words for an operator (no personal data, no token). */
  message: string;
}

/** The destination as the checks see it. */
export interface ReadinessDestination {
  id: string;
  displayName: string;
  deleted: boolean;
  adAccountId: string | null;
  audienceId: string | null;
  newAudienceName: string | null;
}

/** What the store holds for the destination. */
export interface StoredSetup {
  consentCurrent: boolean;
  hasExportConfig: boolean;
  connected: boolean;
}

/** What is known of the token: from the stored credential (its expiry) or from Facebook's debug_token. */
export interface TokenFacts {
  valid: boolean;
  expiresAt: Date | null;
  /** Why debug_token called it invalid; `other_app` is worth saying. */
  invalidReason?: string;
  /** Its permissions, when Facebook was asked. */
  scopes?: readonly string[];
}

const problem = (check: ReadinessCheck, field: string, reason: string, message: string): ReadinessProblem => ({
  check,
  field,
  reason,
  message,
});

/** A deleted destination, or a draft whose ad account or audience is not chosen yet. */
export function destinationProblem(d: ReadinessDestination): ReadinessProblem | undefined {
  if (d.deleted) {
    return problem(
      ReadinessCheck.DestinationDeleted,
      'params.id',
      'destination deleted',
      `Destination ${d.id} is being deleted.`,
    );
  }
  if (d.adAccountId === null || (d.audienceId === null && d.newAudienceName === null)) {
    return problem(
      ReadinessCheck.DestinationIncomplete,
      d.adAccountId === null ? 'adAccountId' : 'audienceId',
      'not chosen yet',
      `Destination '${d.displayName}' has no ad account or audience chosen yet: choose the ad account and an ` +
        `existing or new audience (PATCH /destinations/${d.id}) before exporting.`,
    );
  }
  return undefined;
}

/** Consent, an export config and a Facebook connection, in that order. */
export function setupProblem(d: ReadinessDestination, setup: StoredSetup): ReadinessProblem | undefined {
  if (!setup.consentCurrent) {
    return problem(
      ReadinessCheck.ConsentMissing,
      'consent',
      'no current consent',
      `No data privacy and compliance consent is recorded for destination '${d.displayName}': record it ` +
        `(POST /destinations/${d.id}/consent) before exporting.`,
    );
  }
  if (!setup.hasExportConfig) {
    return problem(
      ReadinessCheck.ExportConfigMissing,
      'exportConfig',
      'no export config',
      `Destination '${d.displayName}' has no export configuration: set its key identifier, mapping and segments ` +
        `(PUT /destinations/${d.id}/export-config).`,
    );
  }
  if (!setup.connected) {
    return problem(
      ReadinessCheck.NotConnected,
      'connection',
      'no Facebook connection',
      `Destination '${d.displayName}' is not connected to Facebook: connect it ` +
        `(GET /destinations/${d.id}/facebook/connect) or give a system-user token.`,
    );
  }
  return undefined;
}

/** An expired or invalid token, or one without `ads_management` (when its permissions are known). */
export function tokenProblem(d: ReadinessDestination, token: TokenFacts, now: number): ReadinessProblem | undefined {
  const expired = token.expiresAt !== null && token.expiresAt.getTime() <= now;
  if (!token.valid || expired) {
    const why = expired
      ? `the token expired on ${token.expiresAt!.toISOString()}`
      : token.invalidReason === 'other_app'
        ? 'the token was issued for another Facebook app'
        : 'the token is no longer valid';
    return problem(
      ReadinessCheck.TokenInvalid,
      'connection',
      expired ? 'token expired' : 'token no longer valid',
      `Reconnect Facebook for destination '${d.displayName}' (GET /destinations/${d.id}/facebook/connect): ${why}.`,
    );
  }
  if (token.scopes && !token.scopes.includes('ads_management')) {
    return problem(
      ReadinessCheck.PermissionMissing,
      'connection',
      'token lacks ads_management',
      `Reconnect Facebook for destination '${d.displayName}' and grant ads_management ` +
        `(GET /destinations/${d.id}/facebook/connect): the token lacks it.`,
    );
  }
  return undefined;
}

/** Problems an operator fixes by connecting Facebook again: the destination is marked so. */
export const needsReconnect = (p: ReadinessProblem): boolean =>
  p.check === ReadinessCheck.TokenInvalid || p.check === ReadinessCheck.PermissionMissing;
