import type { GraphTransport } from './graph-transport.js';
import { GraphClientConfigError } from './graph-transport.js';
import { parseAccessToken, type AccessToken } from './responses.js';

/**
 * The server-side login flow (reference 2.5). Meta documents `/oauth/access_token` as a GET with the app secret and
 * the code in the query; Graph takes the same parameters as a POST form, which we send so that no secret is ever
 * part of a URL (RFC 6749 section 2.3.1: proxies and access logs keep URLs).
 */
export function createOAuthCalls(t: GraphTransport, app: { appId?: string; dialogUrl: string }) {
  const dialogUrl = app.dialogUrl.replace(/\/+$/, '');
  return {
    /**
     * The login dialog URL (`<dialogUrl>/<version>/dialog/oauth`) for the code flow. With a Facebook Login for
     * Business configuration id, `config_id` replaces `scope`: the configuration names the permissions (reference
     * 2.5).
     */
    loginDialogUrl(input: { redirectUri: string; state: string; scopes: string[]; configId?: string }): string {
      if (!app.appId) throw new GraphClientConfigError('appId', 'loginDialogUrl');
      const qs = new URLSearchParams({
        client_id: app.appId,
        redirect_uri: input.redirectUri,
        state: input.state,
        response_type: 'code',
        ...(input.configId === undefined ? { scope: input.scopes.join(',') } : { config_id: input.configId }),
      });
      return `${dialogUrl}/${t.apiVersion}/dialog/oauth?${qs.toString()}`;
    },

    /** Exchanges a login code (single use; `redirectUri` byte-identical to the dialog's) for a short-lived token. */
    async exchangeCode(
      input: { code: string; redirectUri: string },
      opts: { signal?: AbortSignal } = {},
    ): Promise<AccessToken> {
      const { appId, appSecret } = t.requireApp('exchangeCode');
      const operation = 'POST /oauth/access_token (code)';
      const body = await t.call({
        method: 'POST',
        path: 'oauth/access_token',
        operation,
        form: { client_id: appId, client_secret: appSecret, redirect_uri: input.redirectUri, code: input.code },
        ...opts,
      });
      return parseAccessToken(body, operation, t.now());
    },

    /** Exchanges a short-lived user token for a long-lived one (about 60 days). */
    async exchangeForLongLivedToken(shortToken: string, opts: { signal?: AbortSignal } = {}): Promise<AccessToken> {
      const { appId, appSecret } = t.requireApp('exchangeForLongLivedToken');
      const operation = 'POST /oauth/access_token (fb_exchange_token)';
      const body = await t.call({
        method: 'POST',
        path: 'oauth/access_token',
        operation,
        form: {
          grant_type: 'fb_exchange_token',
          client_id: appId,
          client_secret: appSecret,
          fb_exchange_token: shortToken,
        },
        ...opts,
      });
      return parseAccessToken(body, operation, t.now());
    },
  };
}
