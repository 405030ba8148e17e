import type { z } from 'zod';
import { isReady, type ConsentRecord, type CredentialInfo, type Destination } from '../../store/index.js';
import type { ConnectionSchema, DESTINATION_STATES, DestinationSchema } from '../schemas/destinations.js';

/** A token expiring within this is flagged, so there is time to reconnect before exports fail. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;

export type DestinationView = z.infer<typeof DestinationSchema>;
export type ConnectionView = z.infer<typeof ConnectionSchema>;
export type DestinationState = (typeof DESTINATION_STATES)[number];

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

/**
 * What the destination waits for, in the order of setting one up. Derived from the facts (account and audience
 * chosen, token, consent) on every read, so a destination without a connection or consent is never `active`.
 */
export function destinationState(
  d: Destination,
  connection: ConnectionView['status'],
  consent: ConsentRecord | null,
): DestinationState {
  if (d.status === 'deleted') return 'deleted';
  if (!isReady(d)) return 'draft';
  if (connection === 'not_connected') return 'not_connected';
  if (connection === 'needs_reconnect') return 'needs_reconnect';
  if (!consent) return 'needs_consent';
  if (d.status === 'needs_terms') return 'needs_terms';
  if (d.status === 'paused') return 'paused';
  return 'active';
}

export const consentView = (c: ConsentRecord | null) =>
  c ? { givenBy: c.givenBy, givenAt: c.givenAt.toISOString(), statementVersion: c.statementVersion } : null;
