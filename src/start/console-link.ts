/**
 * The console's address; with a key, a link that signs in at once. The key rides in the fragment, which browsers
 * never send to a server, so it reaches no access log; the console moves it to session storage and drops it from
 * the address bar.
 */
export function consoleLink(publicUrl: string, apiKey?: string): string {
  const base = `${publicUrl.replace(/\/+$/, '')}/console/`;
  return apiKey ? `${base}#key=${encodeURIComponent(apiKey)}` : base;
}
