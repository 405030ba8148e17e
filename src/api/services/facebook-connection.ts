import { AuthError, type TokenInfo } from '../../facebook/index.js';
import type { ApiDeps } from '../deps.js';
import { ProblemError, ProblemKind } from '../problem.js';
import {
  createState,
  deriveStateKey,
  OAUTH_STATE_TTL_MS,
  redeemState,
  signedReturnTo,
  verifyState,
} from './oauth-state.js';
import { connectionView, type ConnectionView } from './views.js';

type Deps = Pick<ApiDeps, 'config' | 'store' | 'graph' | 'logger'> & { now?: () => number };

/** What the login dialog asks for: `ads_management` to write audiences, `ads_read` to list accounts and audiences. */
export const LOGIN_SCOPES = ['ads_management', 'ads_read'];
export const REQUIRED_SCOPE = 'ads_management';

export const callbackUri = (deps: Pick<ApiDeps, 'config'>): string => `${deps.config.api.publicUrl}/facebook/callback`;

function requireOAuthConfig(deps: Pick<ApiDeps, 'config'>): Buffer {
  const { appId, appSecret } = deps.config.facebook;
  const key = deps.config.encryptionKey;
  if (!appId || !appSecret || !key) {
    throw new ProblemError(
      503,
      ProblemKind.notConfigured,
      'Facebook login needs FACEBOOK_APP_ID, FACEBOOK_APP_SECRET and ENCRYPTION_KEY to be set on the API.',
    );
  }
  return deriveStateKey(key);
}

/**
 * The login dialog URL for a destination, with a signed, expiring, single-use state. `returnTo` (a console path)
 * is where the callback sends the person once connected.
 */
export async function loginUrl(deps: Deps, destinationId: string, options: { returnTo?: string } = {}) {
  const key = requireOAuthConfig(deps);
  await deps.store.destinations.get(destinationId);
  const now = (deps.now ?? Date.now)();
  const state = createState(key, destinationId, now, options);
  return {
    dialogUrl: deps.graph.loginDialogUrl({
      redirectUri: callbackUri(deps),
      state,
      scopes: LOGIN_SCOPES,
      ...(deps.config.facebook.loginConfigId === undefined ? {} : { configId: deps.config.facebook.loginConfigId }),
    }),
    expiresAt: new Date(now + OAUTH_STATE_TTL_MS).toISOString(),
  };
}

/** The console path a failed callback links back to, when its state is one we signed. */
export function returnToOf(deps: Pick<ApiDeps, 'config'>, state: string | undefined): string | undefined {
  const key = deps.config.encryptionKey;
  return key ? signedReturnTo(deriveStateKey(key), state) : undefined;
}

/** debug_token must say: valid, issued for our app, with ads_management (reference 2.3). */
export async function verifyToken(deps: Deps, token: string, field: string): Promise<TokenInfo> {
  const info = await deps.graph.debugToken(token);
  if (!info.valid) {
    const message =
      info.invalidReason === 'other_app' ? 'issued for another Facebook app' : 'not valid (expired or revoked)';
    throw new ProblemError(400, ProblemKind.validation, `Facebook says the token is ${message}; issue a new one.`, [
      { field, message },
    ]);
  }
  if (!info.scopes.includes(REQUIRED_SCOPE)) {
    throw new ProblemError(400, ProblemKind.validation, 'The token lacks ads_management; grant it and try again.', [
      { field, message: 'missing the ads_management permission' },
    ]);
  }
  return info;
}

async function storeToken(
  deps: Deps,
  destinationId: string,
  kind: 'login' | 'system_user',
  token: string,
  info: TokenInfo,
) {
  const saved = await deps.store.credentials.save(destinationId, {
    kind,
    token,
    scopes: info.scopes,
    expiresAt: info.expiresAt,
    verifiedAt: new Date((deps.now ?? Date.now)()),
  });
  const d = await deps.store.destinations.get(destinationId);
  const active = d.status === 'needs_reconnect' ? await deps.store.destinations.setStatus(destinationId, 'active') : d;
  return { destination: active, connection: connectionView(active, saved, (deps.now ?? Date.now)()) };
}

/** `PUT .../facebook/token`: a system user's token, verified like a login token. */
export async function connectSystemUserToken(
  deps: Deps,
  destinationId: string,
  token: string,
): Promise<ConnectionView> {
  await deps.store.destinations.get(destinationId);
  const info = await verifyToken(deps, token, 'body.token');
  return (await storeToken(deps, destinationId, 'system_user', token, info)).connection;
}

/**
 * The OAuth callback: state checked and spent first (a replayed callback fails before touching Facebook), then the
 * code exchanged for a short-lived and that for a long-lived token, verified and stored encrypted.
 */
export async function completeLogin(deps: Deps, input: { code: string; state: string }) {
  const key = requireOAuthConfig(deps);
  const state = verifyState(key, input.state, (deps.now ?? Date.now)());
  await redeemState(deps.store, state);
  await deps.store.destinations.get(state.destinationId);
  const short = await deps.graph.exchangeCode({ code: input.code, redirectUri: callbackUri(deps) });
  const long = await deps.graph.exchangeForLongLivedToken(short.accessToken);
  const info = await verifyToken(deps, long.accessToken, 'query.code');
  return {
    ...(await storeToken(deps, state.destinationId, 'login', long.accessToken, info)),
    returnTo: state.returnTo,
  };
}

/**
 * Runs a Graph call with the destination's stored token. A token Facebook rejects flags the destination
 * `needs_reconnect`, so the state is visible before the next export fails on it.
 */
export async function withToken<T>(deps: Deps, destinationId: string, call: (token: string) => Promise<T>): Promise<T> {
  const token = await deps.store.credentials.getToken(destinationId);
  try {
    return await call(token);
  } catch (err) {
    if (err instanceof AuthError) await deps.store.destinations.setStatus(destinationId, 'needs_reconnect');
    throw err;
  }
}
