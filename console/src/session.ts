/**
 * The operator's API key lives in this tab's session storage only: gone when the tab closes, never in a cookie
 * (so no other site can make the browser send it) and never in the URL after sign-in.
 */
const KEY = 'audience-export.apiKey';
const OPERATOR = 'audience-export.operator';

/** A sign-in link carries the key in the fragment (`/console/#key=...`), which browsers never send to a server. */
export function takeKeyFromLink(): void {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const key = params.get('key');
  if (!key) return;
  sessionStorage.setItem(KEY, key);
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

export const apiKey = (): string | null => sessionStorage.getItem(KEY);
export const signIn = (key: string): void => sessionStorage.setItem(KEY, key.trim());
export const signOut = (): void => sessionStorage.removeItem(KEY);

/** Who agrees or withdraws consent, remembered for the next form in this tab. */
export const operator = (): string => sessionStorage.getItem(OPERATOR) ?? '';
export const rememberOperator = (name: string): void => sessionStorage.setItem(OPERATOR, name.trim());
