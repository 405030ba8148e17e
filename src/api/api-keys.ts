import { createHash } from 'node:crypto';

/**
 * What a key may do. Each role includes the ones below it: an admin may do what an operator may, an operator what a
 * viewer may.
 */
export const Role = {
  /** Connections and tokens, destinations, consent, deletion, erasure requests. */
  admin: 'admin',
  /** Export configs, previews, exports and schedules. */
  operator: 'operator',
  /** Reads and `/metrics`. */
  viewer: 'viewer',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** True when a key of role `held` may call a route that needs `needed`. */
export const roleAllows = (held: Role, needed: Role): boolean => RANK[held] >= RANK[needed];

export interface ApiKey {
  /** Says who called in consent records and log lines; never secret. */
  readonly name: string;
  readonly role: Role;
  /** The bearer secret. Never logged. */
  readonly secret: string;
}

/** Long enough that guessing is hopeless (`openssl rand -hex 24` gives 48). */
export const MIN_API_KEY_LENGTH = 32;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const NAMED = /^([^:]+):(admin|operator|viewer):(.*)$/s;

/**
 * `name:role:secret` per entry; a bare secret (the form before roles; no colon) is an admin key named `key-<8 hex>`
 * after its SHA-256, so the name stays the same whatever the order of the list. Problems name entries by position and
 * never quote a secret.
 */
export function parseApiKeys(entries: readonly string[]): { keys: ApiKey[]; problems: string[] } {
  const keys: ApiKey[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    const at = `entry ${i + 1}`;
    const named = NAMED.exec(entry);
    const key: ApiKey = named
      ? { name: named[1]!, role: named[2] as Role, secret: named[3]! }
      : {
          name: `key-${createHash('sha256').update(entry, 'utf8').digest('hex').slice(0, 8)}`,
          role: Role.admin,
          secret: entry,
        };
    if (named && !NAME.test(key.name)) {
      problems.push(`${at}: the name may have only letters, digits, '.', '_' and '-' (at most 64)`);
    }
    // A bare secret with a colon is a named key gone wrong (say, a role misspelt): never an admin key by mistake.
    if (!named && entry.includes(':')) problems.push(`${at}: not name:role:secret with role admin, operator or viewer`);
    else if (key.secret.length < MIN_API_KEY_LENGTH) {
      problems.push(`${at}: the secret needs at least ${MIN_API_KEY_LENGTH} characters (e.g. openssl rand -hex 24)`);
    }
    if (keys.some((k) => k.name === key.name)) problems.push(`${at}: the name ${key.name} is used twice`);
    if (keys.some((k) => k.secret === key.secret)) problems.push(`${at}: the same secret is given twice`);
    keys.push(key);
  });
  return { keys, problems };
}
