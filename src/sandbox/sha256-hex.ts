/** A SHA-256 digest as uint32 words (big-endian: word 0 is hex digits 0-7). */
export const SHA256_WORDS = 8;
const HEX_DIGITS = 64;

/**
 * The byte that two lowercase hex digits stand for, by their char codes (first | second << 8); -1 for any other
 * pair (Meta wants lowercase: 'A'-'F' are refused). Decoding by pairs from one table is about 4x faster than
 * digit by digit, and a regex per cell was once the sandbox's top cost.
 */
const PAIR = new Int16Array(65_536).fill(-1);
{
  const digits = '0123456789abcdef';
  for (let hi = 0; hi < 16; hi++) {
    for (let lo = 0; lo < 16; lo++) PAIR[digits.charCodeAt(hi) | (digits.charCodeAt(lo) << 8)] = (hi << 4) | lo;
  }
}

/** True when `s` is exactly 64 lowercase hex digits. */
export function isSha256Hex(s: string): boolean {
  if (s.length !== HEX_DIGITS) return false;
  for (let i = 0; i < HEX_DIGITS; i += 2) {
    const first = s.charCodeAt(i);
    const second = s.charCodeAt(i + 1);
    if ((first | second) > 0xff || PAIR[first | (second << 8)]! < 0) return false;
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
    for (let i = w * 8, end = i + 8; i < end; i += 2) {
      const first = s.charCodeAt(i);
      const second = s.charCodeAt(i + 1);
      const byte = (first | second) > 0xff ? -1 : PAIR[first | (second << 8)]!;
      if (byte < 0) return false;
      word = (word << 8) | byte;
    }
    out[at + w] = word;
  }
  return true;
}

/**
 * Like decodeSha256Hex, from 64 ASCII bytes at `bytes[from..]` (the caller checks they are in range), read four
 * at a time.
 */
export function decodeSha256Ascii(bytes: DataView, from: number, out: Uint32Array, at: number): boolean {
  for (let w = 0; w < SHA256_WORDS; w++) {
    const left = bytes.getUint32(from + w * 8, true);
    const right = bytes.getUint32(from + w * 8 + 4, true);
    const b0 = PAIR[left & 0xffff]!;
    const b1 = PAIR[left >>> 16]!;
    const b2 = PAIR[right & 0xffff]!;
    const b3 = PAIR[right >>> 16]!;
    if ((b0 | b1 | b2 | b3) < 0) return false;
    out[at + w] = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  }
  return true;
}

/** The 64 lowercase hex digits of the digest at `words[at..at+8)`. */
export function encodeSha256Hex(words: Uint32Array, at: number): string {
  let hex = '';
  for (let w = 0; w < SHA256_WORDS; w++) hex += words[at + w]!.toString(16).padStart(8, '0');
  return hex;
}
