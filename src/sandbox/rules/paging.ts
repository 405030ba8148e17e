import { graphErrors } from '../errors.js';

export interface Page<T> {
  data: T[];
  paging?: { cursors: { before: string; after: string }; next?: string; previous?: string };
}

const encode = (i: number) => Buffer.from(`i:${i}`).toString('base64url');
function decode(cursor: string): number {
  const m = /^i:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw graphErrors.invalidParameter('Invalid cursor in after/before');
  return Number(m[1]);
}

/** Cursor paging as Graph edges do it: `limit` + `after`/`before`, with `next`/`previous` links. */
export function pageOf<T>(
  items: readonly T[],
  query: Record<string, string | undefined>,
  selfUrl: string,
  fallbackLimit = 25,
): Page<T> {
  const limitRaw = query.limit ?? String(fallbackLimit);
  if (!/^\d{1,5}$/.test(limitRaw) || Number(limitRaw) < 1)
    throw graphErrors.invalidParameter('limit must be a positive integer');
  const limit = Math.min(Number(limitRaw), 5000);
  let start = 0;
  if (query.after) start = decode(query.after) + 1;
  else if (query.before) start = Math.max(0, decode(query.before) - limit);
  const data = items.slice(start, start + limit);
  if (data.length === 0) return { data };
  const first = start;
  const last = start + data.length - 1;
  const link = (key: 'after' | 'before', cursor: string) => {
    const url = new URL(selfUrl);
    url.searchParams.delete('after');
    url.searchParams.delete('before');
    url.searchParams.delete('access_token');
    url.searchParams.set('limit', String(limit));
    url.searchParams.set(key, cursor);
    return url.toString();
  };
  return {
    data,
    paging: {
      cursors: { before: encode(first), after: encode(last) },
      ...(last < items.length - 1 ? { next: link('after', encode(last)) } : {}),
      ...(first > 0 ? { previous: link('before', encode(first)) } : {}),
    },
  };
}
