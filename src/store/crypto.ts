import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { EncryptionKeyMissingError, TokenUndecryptableError } from './errors.js';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Layout: [key version (1 byte)] [IV (12)] [auth tag (16)] [ciphertext]. */
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export interface TokenCipherOptions {
  /** The current 32-byte key; new encryptions use it. */
  key: Uint8Array | undefined;
  /** The version byte written with the current key (1..255). @default 1 */
  keyVersion?: number;
  /** Older keys by version, kept only to read tokens written before a rotation. */
  previousKeys?: Readonly<Record<number, Uint8Array>>;
}

export interface TokenCipher {
  /** AES-256-GCM with a fresh random IV; `context` (e.g. the destination id) is bound as associated data. */
  encrypt(plaintext: string, context: string): Buffer;
  decrypt(sealed: Uint8Array, context: string): string;
  /** The version byte a sealed value was written under (to find tokens that still need re-encryption). */
  keyVersionOf(sealed: Uint8Array): number | undefined;
  readonly currentKeyVersion: number;
}

/**
 * Seals tokens at rest. Binding the owning row's id as associated data means a ciphertext copied onto another
 * destination's row fails authentication instead of handing out the wrong token.
 */
export function createTokenCipher(options: TokenCipherOptions): TokenCipher {
  const version = options.keyVersion ?? 1;
  if (!Number.isInteger(version) || version < 1 || version > 255) {
    throw new RangeError(`keyVersion must be an integer 1..255, got ${version}`);
  }
  const keys = new Map<number, Buffer>();
  for (const [v, k] of Object.entries(options.previousKeys ?? {})) keys.set(Number(v), checkedKey(k));
  const current = options.key ? checkedKey(options.key) : undefined;
  if (current) keys.set(version, current);

  return {
    currentKeyVersion: version,
    encrypt(plaintext, context) {
      if (!current) throw new EncryptionKeyMissingError();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(version), iv, cipher.getAuthTag(), body]);
    },
    decrypt(sealed, context) {
      const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
      if (buf.length < HEADER_BYTES) throw new TokenUndecryptableError(undefined);
      const v = buf[0];
      const key = v === undefined ? undefined : keys.get(v);
      if (!key) {
        if (keys.size === 0) throw new EncryptionKeyMissingError();
        throw new TokenUndecryptableError(v);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(1, 1 + IV_BYTES));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(buf.subarray(1 + IV_BYTES, HEADER_BYTES));
        return Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES)), decipher.final()]).toString('utf8');
      } catch (err) {
        // Node's message ("Unsupported state or unable to authenticate data") says nothing secret; keep it as cause.
        throw new TokenUndecryptableError(v, { cause: err });
      }
    },
    keyVersionOf(sealed) {
      return sealed.length >= HEADER_BYTES ? sealed[0] : undefined;
    },
  };
}

function checkedKey(key: Uint8Array): Buffer {
  if (key.length !== KEY_BYTES) throw new EncryptionKeyMissingError(`the key has ${key.length} bytes, not 32`);
  return Buffer.from(key);
}
