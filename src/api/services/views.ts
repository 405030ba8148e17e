import type { z } from 'zod';
import type { ConsentRecord } from '../../store/consents.js';
import type { CredentialInfo } from '../../store/credentials.js';
import type { Destination } from '../../store/destinations.js';
import type { ConnectionSchema, DestinationSchema } from '../schemas/destinations.js';

/** A token expiring within this is flagged, so there is time to reconnect before exports fail. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;

export type DestinationView = z.infer<typeof DestinationSchema>;
export type ConnectionView = z.infer<typeof ConnectionSchema>;

export const destinationView = (d: Destination): DestinationView => ({
  id: d.id,
  displayName: d.displayName,
  adAccountId: d.adAccountId,
  audienceId: d.audienceId,
  newAudienceName: d.newAudienceName,
  status: d.status,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/** The connection's health, from what is stored: never the token. */
export function connectionView(d: Destination, c: CredentialInfo | null, now: number): ConnectionView {
  if (!c) return { status: 'not_connected', kind: null, scopes: [], expiresAt: null, verifiedAt: null };
  const expires = c.expiresAt?.getTime();
  const status =
    d.status === 'needs_reconnect' || (expires !== undefined && expires <= now)
      ? 'needs_reconnect'
      : expires !== undefined && expires - now < EXPIRY_WARNING_MS
        ? 'expiring_soon'
        : 'connected';
  return {
    status,
    kind: c.kind,
    scopes: [...c.scopes],
    expiresAt: c.expiresAt?.toISOString() ?? null,
    verifiedAt: c.verifiedAt?.toISOString() ?? null,
  };
}

export const consentView = (c: ConsentRecord | null) =>
  c ? { givenBy: c.givenBy, givenAt: c.givenAt.toISOString(), statementVersion: c.statementVersion } : null;
