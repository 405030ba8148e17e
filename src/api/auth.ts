import { createHash, timingSafeEqual } from 'node:crypto';
import { roleAllows, type ApiKey, type Role } from './api-keys.js';
import { ProblemError, ProblemKind } from './problem.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The problem of a request without a usable key: it counts as a failed authentication. */
export class UnauthenticatedError extends ProblemError {}

/**
 * Builds a checker for `Authorization: Bearer <key>` that returns the key presented. Keys are compared as SHA-256
 * digests with `timingSafeEqual`, and every key is compared every time, so timing reveals neither a key nor which
 * one matched.
 */
export function createApiKeyCheck(keys: readonly ApiKey[]): (authorization: string | undefined) => ApiKey {
  const digests = keys.map((k) => ({ key: k, digest: digest(k.secret) }));
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      throw new UnauthenticatedError(
        401,
        ProblemKind.unauthorized,
        'Send an API key as `Authorization: Bearer <key>`.',
        [{ field: 'headers.authorization', message: authorization ? 'not a Bearer credential' : 'missing' }],
      );
    }
    const presented = digest(match[1]);
    let found: ApiKey | undefined;
    for (const d of digests) if (timingSafeEqual(d.digest, presented)) found = d.key;
    if (!found) {
      throw new UnauthenticatedError(
        401,
        ProblemKind.unauthorized,
        'The API key is not valid; use one from API_KEYS.',
        [{ field: 'headers.authorization', message: 'unknown API key' }],
      );
    }
    return found;
  };
}

const withArticle = (role: Role): string => `${role === 'viewer' ? 'a' : 'an'} ${role}`;

/** Refuses a key whose role is below what the route needs (403: the key is right, the role is not enough). */
export function requireRole(key: ApiKey, needed: Role, route: string): void {
  if (roleAllows(key.role, needed)) return;
  throw new ProblemError(
    403,
    ProblemKind.forbidden,
    `${route} needs ${withArticle(needed)} key; key ${key.name} is ${withArticle(key.role)} key.`,
    [{ field: 'headers.authorization', message: `role ${key.role} may not do this` }],
  );
}
