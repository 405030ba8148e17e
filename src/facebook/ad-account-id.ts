/** Ad account ids: the node id is `act_<digits>`, the `account_id` field is the bare digits (reference 1). */

export class InvalidAdAccountIdError extends Error {
  override readonly name = 'InvalidAdAccountIdError';
  constructor() {
    super('An ad account id must be digits, optionally prefixed with act_ (for example act_1234567890)');
  }
}

/** `123` or `act_123` → `act_123`. Throws on anything else, so a wrong id never becomes a wrong URL path. */
export function toAdAccountId(id: string): string {
  const digits = id.trim().replace(/^act_/, '');
  if (!/^\d+$/.test(digits)) throw new InvalidAdAccountIdError();
  return `act_${digits}`;
}

/** `act_123` or `123` → `123`. */
export function adAccountDigits(id: string): string {
  return toAdAccountId(id).slice('act_'.length);
}

const TERMS_BASE_URL = 'https://business.facebook.com/ads/manage/customaudiences/tos/';

/** Where a person accepts the Custom Audience terms for an ad account (reference 2.7). */
export function termsUrl(adAccountId?: string): string {
  if (adAccountId === undefined) return TERMS_BASE_URL;
  try {
    return `${TERMS_BASE_URL}?act=${adAccountDigits(adAccountId)}`;
  } catch {
    return TERMS_BASE_URL;
  }
}
