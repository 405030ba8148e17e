import { createHash } from 'node:crypto';

/** SHA-256 hex through a `Hash` object: the plain path that proves the product's one-shot `crypto.hash` equal. */
export function sha256HexByStream(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
