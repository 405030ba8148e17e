/**
 * The pages a person sees when Facebook's login dialog sends them back to us. The callback is opened by a browser,
 * so it answers HTML, never JSON, and never the token or the code.
 */
const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const page = (title: string, body: string) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;

/** What was connected, until when. */
export function connectedPage(input: { displayName: string; adAccountId: string | null; expiresAt: string | null }) {
  const until = input.expiresAt ? `until ${input.expiresAt}` : 'without an expiry date';
  const account = input.adAccountId ? ` (ad account ${escapeHtml(input.adAccountId)})` : '';
  return page(
    'Facebook connected',
    `<p>Destination <strong>${escapeHtml(input.displayName)}</strong>${account} is connected to Facebook,
${escapeHtml(until)}.</p>
<p>You can close this window.</p>`,
  );
}

/** Why the login did not complete and what to do; a way back to the console when the login started there. */
export function loginFailedPage(input: { detail: string; returnTo?: string | undefined }) {
  const back = input.returnTo
    ? `<p><a href="${escapeHtml(input.returnTo)}">Back to the console</a> to try again.</p>`
    : '<p>Start the connection again from the console or the API.</p>';
  return page('Facebook was not connected', `<p>${escapeHtml(input.detail)}</p>\n${back}`);
}
