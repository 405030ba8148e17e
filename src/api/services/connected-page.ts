const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The small page a person sees after Facebook login: what was connected, until when. Never the token. */
export function connectedPage(input: { displayName: string; adAccountId: string; expiresAt: string | null }): string {
  const until = input.expiresAt ? `until ${input.expiresAt}` : 'without an expiry date';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Facebook connected</title></head>
<body>
<h1>Facebook connected</h1>
<p>Destination <strong>${escapeHtml(input.displayName)}</strong> (ad account ${escapeHtml(input.adAccountId)})
can now export to Facebook, ${escapeHtml(until)}.</p>
<p>You can close this window.</p>
</body></html>`;
}
