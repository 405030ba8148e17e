import { createHash, hash } from 'node:crypto';

/** Lowercase hex SHA-256 of the UTF-8 bytes: the one-shot `crypto.hash` (Node ≥ 20.12), the fast path. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** The same digest through a `Hash` object: the plain path, kept to prove the fast one equal. */
export function sha256HexByStream(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
