import { getAdAccount, debugToken, getMe, getPermissions, listAdAccounts } from './handlers/accounts.js';
import {
  createAudience,
  deleteAudience,
  getAudience,
  listAudiences,
  listSessions,
  updateAudience,
} from './handlers/audiences.js';
import { oauthAccessToken, oauthDialog } from './handlers/oauth.js';
import { addUsers, removeFromAllAudiences, removeUsers, replaceUsers } from './handlers/uploads.js';
import type { Handler } from './request.js';

/** Whether a route authenticates with a user/system token (and so needs appsecret_proof). */
export interface Route {
  handler: Handler;
  /** false for app-level calls that authenticate otherwise (OAuth, debug_token with the app token). */
  userToken: boolean;
}

const ACCOUNT = /^act_\d+$/;
const NODE = /^\d+$/;

/**
 * The route a method and path (after the version) take, named as in the table below (`GET node/sessions`,
 * `GET debug_token`), or null for a path no route can take. Fault settings name routes this way.
 */
export function routeKey(method: string, segments: readonly string[]): string | null {
  const [first, second, ...rest] = segments;
  if (rest.length > 0 || first === undefined) return null;
  return `${method} ${ACCOUNT.test(first) ? 'act' : NODE.test(first) ? 'node' : first}${second === undefined ? '' : '/' + second}`;
}

/** Finds the handler for a method and the path after the version, or null (unknown path). */
export function route(method: string, segments: readonly string[]): Route | null {
  const key = routeKey(method, segments);
  if (key === null) return null;
  const user = (handler: Handler): Route => ({ handler, userToken: true });
  const app = (handler: Handler): Route => ({ handler, userToken: false });
  const table: Record<string, Route> = {
    'GET dialog/oauth': app(oauthDialog),
    'GET oauth/access_token': app(oauthAccessToken),
    'POST oauth/access_token': app(oauthAccessToken),
    'GET debug_token': app(debugToken),
    'GET me': user(getMe),
    'GET me/permissions': user(getPermissions),
    'GET me/adaccounts': user(listAdAccounts),
    'GET act': user(getAdAccount),
    'GET act/customaudiences': user(listAudiences),
    'POST act/customaudiences': user(createAudience),
    'DELETE act/usersofanyaudience': user(removeFromAllAudiences),
    'GET node': user(getAudience),
    'POST node': user(updateAudience),
    'DELETE node': user(deleteAudience),
    'POST node/users': user(addUsers),
    'DELETE node/users': user(removeUsers),
    'POST node/usersreplace': user(replaceUsers),
    'GET node/sessions': user(listSessions),
  };
  return table[key] ?? null;
}
