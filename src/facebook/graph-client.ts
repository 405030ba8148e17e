import { createAccountCalls } from './account-calls.js';
import { createAudienceCalls } from './audience-calls.js';
import { createGraphTransport, type GraphClientOptions } from './graph-transport.js';
import { createOAuthCalls } from './oauth-calls.js';
import { createUploadCalls } from './upload-calls.js';

export type { CallOptions, GraphClientOptions } from './graph-transport.js';
export { GraphClientConfigError } from './graph-transport.js';
export type { UsersInput } from './upload-calls.js';
export { DEFAULT_AUDIENCE_PAGE_SIZE } from './audience-calls.js';

export type GraphClient = ReturnType<typeof createGraphClient>;

/**
 * The Graph API client for the calls audience-export makes (reference sections 1–4, 6). Every call takes
 * `{ token, signal? }`; the token travels in the `Authorization` header only (except where Meta's GET endpoints take
 * tokens as parameters: `debug_token`'s `input_token` and the OAuth exchanges). Errors are the typed classes of
 * `errors.ts`; usage headers reach `onUsage` and `lastUsage()`. Nothing here logs.
 */
export function createGraphClient(options: GraphClientOptions) {
  const transport = createGraphTransport(options);
  return {
    apiVersion: options.apiVersion,
    ...createUploadCalls(transport),
    ...createAccountCalls(transport),
    ...createAudienceCalls(transport),
    ...createOAuthCalls(transport, {
      ...(options.appId ? { appId: options.appId } : {}),
      dialogUrl: options.dialogUrl,
    }),
    lastUsage: transport.lastUsage,
    lastUsageSeen: transport.lastUsageSeen,
    close: transport.close,
  };
}
