import { toAdAccountId } from './ad-account-id.js';
import { AppCredentialsError, AuthError } from './errors.js';
import type { CallOptions, GraphTransport } from './graph-transport.js';
import {
  AD_ACCOUNT_FIELDS,
  parseAdAccount,
  parseDebugToken,
  parsePage,
  parsePermissions,
  type AdAccount,
  type Page,
  type Permissions,
  type TokenInfo,
} from './responses.js';

const AD_ACCOUNTS_PAGE_SIZE = 50;
/** Stop following cursors after this many pages: a cursor loop must not spin forever. */
const MAX_PAGES = 1_000;

/** Every item of a paged edge, following `after` cursors until Meta stops naming a next page. */
export async function allPages<T>(fetchPage: (after?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await fetchPage(after);
    items.push(...page.items);
    if (!page.after || page.after === after) return items;
    after = page.after;
  }
  return items;
}

/** Tokens, permissions and ad accounts (reference 2.3, 2.6, 2.7). */
export function createAccountCalls(t: GraphTransport) {
  return {
    /**
     * Inspects a token with the app token (`appId|appSecret`, reference 2.3). `valid` is false when Meta says so
     * or when the token was issued for another app (a hijack defence). Throws AppCredentialsError when Meta
     * refuses the app token itself (wrong app id or secret).
     */
    async debugToken(inputToken: string, opts: { signal?: AbortSignal } = {}): Promise<TokenInfo> {
      const app = t.requireApp('debugToken');
      const body = await t
        .call({
          method: 'GET',
          path: 'debug_token',
          operation: 'GET /debug_token',
          query: { input_token: inputToken },
          token: `${app.appId}|${app.appSecret}`,
          ...opts,
        })
        .catch((err: unknown) => {
          // The inspected token's faults come back inside `data`; an OAuth error here is about the app token.
          if (err instanceof AuthError) {
            const { code, subcode, type, fbtraceId, httpStatus, operation } = err;
            throw new AppCredentialsError({ code, subcode, type, fbtraceId, httpStatus, operation, cause: err });
          }
          throw err;
        });
      return parseDebugToken(body, app.appId);
    },

    /** The token's permissions split into granted and not granted (`GET /me/permissions`). */
    async getPermissions(opts: CallOptions): Promise<Permissions> {
      return parsePermissions(
        await t.call({ method: 'GET', path: 'me/permissions', operation: 'GET /me/permissions', ...opts }),
      );
    },

    /** Every ad account the token can see, across all pages, with their Custom Audience terms state. */
    listAdAccounts(opts: CallOptions): Promise<AdAccount[]> {
      const operation = 'GET /me/adaccounts';
      return allPages(async (after) =>
        parsePage(
          await t.call({
            method: 'GET',
            path: 'me/adaccounts',
            operation,
            query: { fields: AD_ACCOUNT_FIELDS, limit: AD_ACCOUNTS_PAGE_SIZE, after },
            ...opts,
          }),
          (item) => parseAdAccount(item, operation),
          operation,
        ),
      );
    },

    /** One ad account (`act_123` or `123`), with whether it accepted the Custom Audience terms and where to. */
    async getAdAccount(adAccountId: string, opts: CallOptions): Promise<AdAccount> {
      const id = toAdAccountId(adAccountId);
      const operation = 'GET /{ad_account}';
      const body = await t.call({
        method: 'GET',
        path: id,
        operation,
        query: { fields: AD_ACCOUNT_FIELDS },
        adAccountId: id,
        ...opts,
      });
      return parseAdAccount(body, operation);
    },
  };
}
