import { toAdAccountId } from './ad-account-id.js';
import type { CallOptions, GraphTransport } from './graph-transport.js';
import { encodeId } from './graph-transport.js';
import {
  AUDIENCE_FIELDS,
  UnexpectedResponseError,
  parseAudience,
  parsePage,
  type Audience,
  type Page,
} from './responses.js';

/** Meta's FAQ: big `/customaudiences` pages fail with code 1 "reduce the amount of data" (reference 1). */
export const DEFAULT_AUDIENCE_PAGE_SIZE = 20;

/** Custom audience objects (reference 3). */
export function createAudienceCalls(t: GraphTransport) {
  return {
    /** One page of an ad account's audiences (owned and shared; filter `subtype === 'CUSTOM'` yourself). */
    async listAudiences(
      adAccountId: string,
      page: { limit?: number; after?: string },
      opts: CallOptions,
    ): Promise<Page<Audience>> {
      const id = toAdAccountId(adAccountId);
      const operation = 'GET /{ad_account}/customaudiences';
      const body = await t.call({
        method: 'GET',
        path: `${id}/customaudiences`,
        operation,
        query: { fields: AUDIENCE_FIELDS, limit: page.limit ?? DEFAULT_AUDIENCE_PAGE_SIZE, after: page.after },
        adAccountId: id,
        ...opts,
      });
      return parsePage(body, (item) => parseAudience(item, operation), operation);
    },

    /** One audience with its size bounds, statuses, subtype and data source. */
    async getAudience(audienceId: string, opts: CallOptions): Promise<Audience> {
      const operation = 'GET /{audience}';
      const body = await t.call({
        method: 'GET',
        path: encodeId(audienceId),
        operation,
        query: { fields: AUDIENCE_FIELDS },
        ...opts,
      });
      return parseAudience(body, operation);
    },

    /** Creates a customer-list audience (`subtype=CUSTOM`, `customer_file_source=USER_PROVIDED_ONLY`). */
    async createAudience(
      adAccountId: string,
      audience: { name: string; description?: string },
      opts: CallOptions,
    ): Promise<{ id: string }> {
      const id = toAdAccountId(adAccountId);
      const operation = 'POST /{ad_account}/customaudiences';
      const body = await t.call({
        method: 'POST',
        path: `${id}/customaudiences`,
        operation,
        body: {
          name: audience.name,
          ...(audience.description !== undefined ? { description: audience.description } : {}),
          subtype: 'CUSTOM',
          customer_file_source: 'USER_PROVIDED_ONLY',
        },
        adAccountId: id,
        ...opts,
      });
      const created = (body as { id?: unknown } | null)?.id;
      if (typeof created !== 'string' && typeof created !== 'number') {
        throw new UnexpectedResponseError(operation, 'id');
      }
      return { id: String(created) };
    },

    /** Deletes an audience permanently (`DELETE /{audience}`). */
    async deleteAudience(audienceId: string, opts: CallOptions): Promise<void> {
      const operation = 'DELETE /{audience}';
      const body = await t.call({ method: 'DELETE', path: encodeId(audienceId), operation, ...opts });
      if ((body as { success?: unknown } | null)?.success !== true && body !== true) {
        throw new UnexpectedResponseError(operation, 'success: true');
      }
    },
  };
}
