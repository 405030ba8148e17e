/** A SHA-256 digest as uint32 words (big-endian: word 0 is hex digits 0-7). */
export const SHA256_WORDS = 8;
const HEX_DIGITS = 64;

/** Value of each lowercase hex digit by char code, -1 otherwise (Meta wants lowercase: 'A'-'F' are refused). */
const DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < 10; d++) DIGIT[48 + d] = d;
for (let d = 0; d < 6; d++) DIGIT[97 + d] = 10 + d;

/** True when `s` is exactly 64 lowercase hex digits. A char-code loop: a regex per cell was the sandbox's top cost. */
export function isSha256Hex(s: string): boolean {
  if (s.length !== HEX_DIGITS) return false;
  for (let i = 0; i < HEX_DIGITS; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DIGIT[c]! < 0) return false;
  }
  return true;
}

/**
 * Writes the 8 words of a 64-lowercase-hex digest to `out[at..at+8)`; false when `s` is not one (then `out` may
 * be partly written).
 */
export function decodeSha256Hex(s: string, out: Uint32Array, at: number): boolean {
  if (s.length !== HEX_DIGITS) return false;
  for (let w = 0; w < SHA256_WORDS; w++) {
    let word = 0;
    for (let i = w * 8, end = i + 8; i < end; i++) {
      const c = s.charCodeAt(i);
      const d = c < 128 ? DIGIT[c]! : -1;
      if (d < 0) return false;
      word = (word << 4) | d;
    }
    out[at + w] = word;
  }
  return true;
}

/** The 64 lowercase hex digits of the digest at `words[at..at+8)`. */
export function encodeSha256Hex(words: Uint32Array, at: number): string {
  let hex = '';
  for (let w = 0; w < SHA256_WORDS; w++) hex += words[at + w]!.toString(16).padStart(8, '0');
  return hex;
}
