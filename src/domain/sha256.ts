import { hash } from 'node:crypto';

/** Lowercase hex SHA-256 of the UTF-8 bytes: the one-shot `crypto.hash` (Node ≥ 20.12), the fast path. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
