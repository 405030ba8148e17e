import { randomBytes } from 'node:crypto';

/**
 * A fresh upload `session_id`: 48 random bits, so it stays an exact JSON number (≤ 2^53−1, reference 4.3/8.7)
 * and two sessions in one ad account practically never collide. Never 0.
 */
export function newSessionId(): number {
  return randomBytes(6).readUIntBE(0, 6) || 1;
}
