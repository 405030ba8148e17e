import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiStore } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';

/** How long an operator has to finish Facebook's login dialog. */
export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;
const VERSION = 'v1';

export interface OAuthState {
  destinationId: string;
  nonce: string;
  expiresAt: number;
  /** A console path to send the person back to after the callback (checked when issued, then signed). */
  returnTo?: string;
}

/** A key of its own for signing state, derived from the encryption key so one secret serves both. */
export function deriveStateKey(encryptionKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', encryptionKey, Buffer.alloc(0), 'audience-export oauth state v1', 32));
}

const sign = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(`${VERSION}.${body}`).digest();

/** `v1.<payload>.<hmac>`, all base64url: opaque to Facebook, which hands it back unchanged. */
export function createState(
  key: Buffer,
  destinationId: string,
  now = Date.now(),
  options: { returnTo?: string | undefined } = {},
): string {
  const payload: OAuthState = {
    destinationId,
    nonce: randomBytes(16).toString('base64url'),
    expiresAt: now + OAUTH_STATE_TTL_MS,
    ...(options.returnTo ? { returnTo: options.returnTo } : {}),
  };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${VERSION}.${body}.${sign(key, body).toString('base64url')}`;
}

const refuse = (message: string, detail: string): ProblemError =>
  new ProblemError(400, ProblemKind.validation, detail, [{ field: 'query.state', message }]);
const RESTART = 'Start again from GET /destinations/{id}/facebook/connect.';

/** The state's payload when this service signed it (expired or not). */
function readSigned(key: Buffer, state: string): OAuthState {
  const [version, body, mac] = state.split('.');
  if (version !== VERSION || !body || !mac)
    throw refuse('not a state this service issued', `The state is malformed. ${RESTART}`);
  const expected = sign(key, body);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refuse('signature does not match', `The state was not issued by this service. ${RESTART}`);
  }
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as OAuthState;
}

/** Checks signature and expiry (not single use: see `redeemState`). */
export function verifyState(key: Buffer, state: string, now = Date.now()): OAuthState {
  const parsed = readSigned(key, state);
  if (parsed.expiresAt <= now) throw refuse('expired', `The login took longer than 10 minutes. ${RESTART}`);
  return parsed;
}

/** Where a failed login sends the person back: only from a state we signed, so it cannot be an open redirect. */
export function signedReturnTo(key: Buffer, state: string | undefined): string | undefined {
  if (!state) return undefined;
  try {
    return readSigned(key, state).returnTo;
  } catch {
    return undefined;
  }
}

/** Marks the state's nonce used; a second redemption is refused, so a leaked callback URL cannot be replayed. */
export async function redeemState(store: Pick<ApiStore, 'oauthStates'>, state: OAuthState): Promise<void> {
  const first = await store.oauthStates.redeem(state.nonce, state.destinationId, new Date(state.expiresAt));
  if (!first) throw refuse('already used', `This login was already completed. ${RESTART}`);
}
