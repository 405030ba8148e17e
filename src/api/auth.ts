import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemError, ProblemKind } from './problem.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Builds a checker for `Authorization: Bearer <key>`. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`, and every key is compared every time, so timing reveals neither a key nor which one matched.
 */
export function createApiKeyCheck(keys: readonly string[]): (authorization: string | undefined) => void {
  const digests = keys.map(digest);
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      throw new ProblemError(401, ProblemKind.unauthorized, 'Send an API key as `Authorization: Bearer <key>`.', [
        { field: 'headers.authorization', message: authorization ? 'not a Bearer credential' : 'missing' },
      ]);
    }
    const presented = digest(match[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, presented) || ok;
    if (!ok) {
      throw new ProblemError(401, ProblemKind.unauthorized, 'The API key is not valid; use one from API_KEYS.', [
        { field: 'headers.authorization', message: 'unknown API key' },
      ]);
    }
  };
}
