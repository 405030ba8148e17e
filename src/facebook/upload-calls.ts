import { toAdAccountId } from './ad-account-id.js';
import type { CallOptions, GraphTransport } from './graph-transport.js';
import { encodeId } from './graph-transport.js';
import {
  parseSessions,
  parseUploadResult,
  usersRequestBody,
  type SessionStatus,
  type UploadResult,
  type UploadSession,
  type UsersPayload,
} from './responses.js';
import { newSessionId } from '../domain/session-id.js';

export interface UsersInput {
  audienceId: string;
  payload: UsersPayload;
  /** Optional on `/users` (reference 4.3), required on `/usersreplace`. */
  session?: UploadSession;
}

/** The upload path (reference 4): add, remove and replace in sessions, erasure, session status. */
export function createUploadCalls(t: GraphTransport) {
  async function users(
    method: 'POST' | 'DELETE',
    edge: 'users' | 'usersreplace',
    input: UsersInput,
    opts: CallOptions,
  ): Promise<UploadResult> {
    const operation = `${method} /{audience}/${edge}`;
    const body = await t.call({
      method,
      path: `${encodeId(input.audienceId)}/${edge}`,
      operation,
      body: usersRequestBody(input.payload, input.session),
      ...opts,
    });
    return parseUploadResult(body, operation);
  }

  return {
    /** A fresh upload session id: a positive 48-bit random integer. */
    newSessionId,

    /** Adds rows to an audience in a session (`POST /{audience}/users`). */
    addUsers: (input: UsersInput, opts: CallOptions) => users('POST', 'users', input, opts),

    /** Removes rows from an audience (`DELETE /{audience}/users`, payload in the body). */
    removeUsers: (input: UsersInput, opts: CallOptions) => users('DELETE', 'users', input, opts),

    /** One batch of a replace session (`POST /{audience}/usersreplace`); batch 1 starts the replace. */
    replaceUsers: (input: UsersInput, opts: CallOptions) => users('POST', 'usersreplace', input, opts),

    /** Removes rows from every customer-file audience of an ad account (erasure requests). */
    async removeFromAllAudiences(
      adAccountId: string,
      payload: UsersPayload,
      opts: CallOptions,
      session?: UploadSession,
    ): Promise<Omit<UploadResult, 'audienceId'>> {
      const id = toAdAccountId(adAccountId);
      const operation = 'DELETE /{ad_account}/usersofanyaudience';
      const body = await t.call({
        method: 'DELETE',
        path: `${id}/usersofanyaudience`,
        operation,
        body: usersRequestBody(payload, session),
        adAccountId: id,
        ...opts,
      });
      // Here `account_id` names the ad account, not an audience.
      const { audienceId: _ignored, ...result } = parseUploadResult(body, operation);
      return result;
    },

    /** The status of one upload session (`GET /{audience}/sessions?session_id=`). */
    async getSessions(audienceId: string, sessionId: number | string, opts: CallOptions): Promise<SessionStatus[]> {
      const body = await t.call({
        method: 'GET',
        path: `${encodeId(audienceId)}/sessions`,
        operation: 'GET /{audience}/sessions',
        query: { session_id: sessionId },
        ...opts,
      });
      return parseSessions(body);
    },
  };
}
