/**
 * Values that record a yes. Anything else — false, 'no', 'opted_out', missing, garbage — is no consent:
 * when in doubt we do not send.
 */
const CONSENTING_TEXT: ReadonlySet<string> = new Set([
  'true', 't', 'yes', 'y', '1', 'on', 'opt-in', 'opt_in', 'optin', 'opted-in', 'opted_in', 'optedin', 'granted',
  'consented', 'subscribed',
]); // prettier-ignore

/** Whether a per-profile consent attribute says yes (`true`, `1`, `'yes'`, `'opted_in'`, `'granted'`, ...). */
export function hasConsent(value: unknown): boolean {
  if (value === true || value === 1) return true;
  return typeof value === 'string' && value.length <= 32 && CONSENTING_TEXT.has(value.trim().toLowerCase());
}

/** The text forms of a yes, for SQL that must agree with {@link hasConsent} (compared after trim + lower). */
export const CONSENT_YES_TEXT: readonly string[] = [...CONSENTING_TEXT];
