import { toAdAccountId, type AdAccount } from '../../facebook/index.js';
import type { ApiDeps } from '../deps.js';
import { withToken } from './facebook-connection.js';

type Deps = Pick<ApiDeps, 'config' | 'store' | 'graph' | 'logger'>;

const adAccountView = (a: AdAccount) => ({
  id: a.id,
  ...(a.name !== undefined ? { name: a.name } : {}),
  ...(a.accountStatus !== undefined ? { accountStatus: a.accountStatus } : {}),
  ...(a.business ? { business: a.business } : {}),
  customAudienceTermsAccepted: a.customAudienceTermsAccepted,
  termsUrl: a.customAudienceTermsAccepted ? null : a.termsUrl,
});

/**
 * The ad accounts the destination's token can use. What they say about the Custom Audience terms is what an export's
 * validation decides by (`tos_accepted.custom_audience_tos`), so the destination's own account's answer is recorded
 * on it as the validation records it: the destination's `needs_terms` mark agrees with the list.
 */
export async function listAdAccounts(deps: Deps, destinationId: string) {
  const accounts = await withToken(deps, destinationId, (token) => deps.graph.listAdAccounts({ token }));
  const { adAccountId } = await deps.store.destinations.get(destinationId);
  const own = accounts.find((a) => a.id === adAccountId);
  if (own) await deps.store.destinations.recordTermsAccepted(destinationId, own.customAudienceTermsAccepted);
  return { items: accounts.map(adAccountView) };
}

/**
 * An ad account's customer-list audiences (subtype CUSTOM), with the account's terms state beside them; an audience
 * another destination exports into is marked, as two destinations on one audience would undo each other.
 */
export async function listAudiences(
  deps: Deps,
  destinationId: string,
  adAccountId: string,
  page: { limit: number; after?: string | undefined },
) {
  const id = toAdAccountId(adAccountId);
  const [account, audiences] = await withToken(deps, destinationId, (token) =>
    Promise.all([
      deps.graph.getAdAccount(id, { token }),
      deps.graph.listAudiences(id, { limit: page.limit, ...(page.after ? { after: page.after } : {}) }, { token }),
    ]),
  );
  const { adAccountId: own } = await deps.store.destinations.get(destinationId);
  if (own === id) await deps.store.destinations.recordTermsAccepted(destinationId, account.customAudienceTermsAccepted);
  const owners = await deps.store.destinations.audienceOwners(id);
  const ownerOf = (audienceId: string) => {
    const owner = owners.get(audienceId);
    return owner && owner.id !== destinationId ? { destinationId: owner.id, displayName: owner.displayName } : null;
  };
  return {
    adAccountId: id,
    customAudienceTermsAccepted: account.customAudienceTermsAccepted,
    termsUrl: account.customAudienceTermsAccepted ? null : account.termsUrl,
    items: audiences.items
      .filter((a) => a.subtype === undefined || a.subtype === 'CUSTOM')
      .map((a) => ({
        id: a.id,
        name: a.name,
        description: a.description,
        sizeLowerBound: a.sizeLowerBound,
        sizeUpperBound: a.sizeUpperBound,
        operationStatus: a.operationStatus,
        deliveryStatus: a.deliveryStatus,
        usedBy: ownerOf(a.id),
      })),
    after: audiences.after ?? null,
  };
}
