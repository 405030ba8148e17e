import { randomBytes } from 'node:crypto';
import { GraphError, graphErrors } from '../errors.js';
import { type Handler, str } from '../request.js';

const CODE_TTL_MS = 10 * 60_000;

function checkRedirectUri(uri: string | undefined, allowed: readonly string[]): string {
  let url: URL | undefined;
  try {
    url = uri ? new URL(uri) : undefined;
  } catch {
    url = undefined;
  }
  if (!uri || !url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new GraphError(191, '(#191) The redirect_uri URL must be absolute');
  }
  if (allowed.length > 0 && !allowed.includes(uri)) {
    throw new GraphError(
      191,
      "(#191) URL Blocked: This redirect failed because the redirect URI is not whitelisted in the app's Client OAuth Settings.",
    );
  }
  return uri;
}

/**
 * What the dialog grants: a Login for Business configuration's permissions when the app has one (then `config_id`
 * must name it, and replaces `scope`), else the `scope` asked for. The configuration, not `scope`, defines the
 * token for such apps (reference 2.5), so a mismatch is refused rather than silently granting something else.
 */
function grantedScopes(
  configId: string | undefined,
  scope: string | undefined,
  loginConfig: { id: string; scopes: string[] } | undefined,
): string[] {
  if (loginConfig !== undefined) {
    if (configId !== loginConfig.id) {
      throw graphErrors.invalidParameter(
        configId === undefined
          ? 'This app uses Facebook Login for Business: pass config_id instead of scope'
          : 'Invalid config_id: no such login configuration for this app',
      );
    }
    return [...loginConfig.scopes];
  }
  if (configId !== undefined)
    throw graphErrors.invalidParameter('Invalid config_id: this app has no login configuration');
  return (scope ?? 'ads_management,ads_read').split(/[ ,]+/).filter((s) => s !== '');
}

/** GET /<v>/dialog/oauth: the person "logs in" at once and is sent back with a code (or access_denied). */
export const oauthDialog: Handler = (req, world) => {
  if (str(req.params, 'client_id') !== world.config.appId) {
    throw graphErrors.invalidParameter('Invalid client_id: this app id is unknown');
  }
  const redirectUri = checkRedirectUri(str(req.params, 'redirect_uri'), world.config.oauth.redirectUris);
  const scopes = grantedScopes(str(req.params, 'config_id'), str(req.params, 'scope'), world.config.oauth.loginConfig);
  const target = new URL(redirectUri);
  const state = str(req.params, 'state');
  if (world.config.oauth.deny) {
    target.searchParams.set('error_reason', 'user_denied');
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_description', 'Permissions error');
  } else {
    const code = randomBytes(24).toString('base64url');
    const userId = world.config.oauth.userId ?? world.config.tokens[0]!.userId;
    world.oauthCodes.set(code, { redirectUri, scopes, userId, expiresAtMs: world.now() + CODE_TTL_MS });
    target.searchParams.set('code', code);
  }
  if (state !== undefined) target.searchParams.set('state', state);
  return { status: 302, redirect: target.toString() };
};

/** POST /<v>/oauth/access_token (a form; GET with the secret in the URL is refused): single-use codes bound to their redirect_uri, and long-lived exchange. */
export const oauthAccessToken: Handler = (req, world) => {
  const { appId, appSecret, oauth } = world.config;
  if (str(req.params, 'client_id') !== appId)
    throw graphErrors.invalidParameter('Error validating application. Invalid application ID.');
  if (str(req.params, 'client_secret') !== appSecret)
    throw graphErrors.invalidParameter('Error validating client secret.');
  if (str(req.params, 'grant_type') === 'fb_exchange_token') {
    const short = world.validToken(str(req.params, 'fb_exchange_token'));
    const long = world.issueToken(short.userId, short.scopes, oauth.longLivedSeconds);
    return { body: { access_token: long.token, token_type: 'bearer', expires_in: oauth.longLivedSeconds } };
  }
  const code = str(req.params, 'code');
  if (!code) throw graphErrors.invalidParameter('Missing authorization code');
  const grant = world.oauthCodes.get(code);
  if (!grant) throw graphErrors.invalidParameter('This authorization code has been used or is invalid.', 36009);
  if (str(req.params, 'redirect_uri') !== grant.redirectUri) {
    throw graphErrors.invalidParameter(
      'Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request',
      36008,
    );
  }
  world.oauthCodes.delete(code);
  if (world.now() > grant.expiresAtMs)
    throw graphErrors.invalidParameter('This authorization code has expired.', 36007);
  const token = world.issueToken(grant.userId, grant.scopes, oauth.shortLivedSeconds);
  return { body: { access_token: token.token, token_type: 'bearer', expires_in: oauth.shortLivedSeconds } };
};
