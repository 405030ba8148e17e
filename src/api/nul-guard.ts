import { ProblemError, ProblemKind } from './problem.js';

/** Where the first U+0000 sits in a parsed body or query (`body.displayName`, `body.mapping.email`), if any. */
export function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  // Deeper than any schema of ours: validation refuses the shape anyway.
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return path;
    const found = findNul(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * PostgreSQL's text and jsonb cannot hold U+0000, so a NUL in any string would fail deep in the store as a 500
 * (or half-way through a multi-step change). Refused before validation instead, naming the field.
 */
export function refuseNul(request: { body?: unknown; query?: unknown }): void {
  const field = findNul(request.body, 'body') ?? findNul(request.query, 'query');
  if (field) {
    throw new ProblemError(400, ProblemKind.validation, 'Text must not contain NUL characters (U+0000).', [
      { field, message: 'contains a NUL character' },
    ]);
  }
}
