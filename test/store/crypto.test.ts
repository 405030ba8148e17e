import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenCipher } from '../../src/store/crypto.js';
import { EncryptionKeyMissingError, TokenUndecryptableError } from '../../src/store/errors.js';

const TOKEN = 'EAAGm0PX4ZCpsBAJ-secret-token-value';

describe('token cipher (AES-256-GCM)', () => {
  const key = randomBytes(32);
  const cipher = createTokenCipher({ key });

  it('round-trips, with a fresh IV each time and no clear text in the sealed bytes', () => {
    const a = cipher.encrypt(TOKEN, 'dest-1');
    const b = cipher.encrypt(TOKEN, 'dest-1');
    expect(a.equals(b)).toBe(false);
    expect(a[0]).toBe(1);
    expect(a.includes(Buffer.from(TOKEN))).toBe(false);
    expect(a.length).toBe(1 + 12 + 16 + Buffer.byteLength(TOKEN));
    expect(cipher.decrypt(a, 'dest-1')).toBe(TOKEN);
    expect(cipher.decrypt(b, 'dest-1')).toBe(TOKEN);
  });

  it('refuses a tampered ciphertext, tag or IV', () => {
    const sealed = cipher.encrypt(TOKEN, 'dest-1');
    for (const at of [1, 13, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      expect(() => cipher.decrypt(bad, 'dest-1')).toThrow(TokenUndecryptableError);
    }
    expect(() => cipher.decrypt(sealed.subarray(0, 20), 'dest-1')).toThrow(TokenUndecryptableError);
  });

  it('refuses a token moved onto another destination (the id is associated data)', () => {
    expect(() => cipher.decrypt(cipher.encrypt(TOKEN, 'dest-1'), 'dest-2')).toThrow(TokenUndecryptableError);
  });

  it('refuses another key, and never puts the token in the message', () => {
    const other = createTokenCipher({ key: randomBytes(32) });
    const err = (() => {
      try {
        other.decrypt(cipher.encrypt(TOKEN, 'd'), 'd');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(TokenUndecryptableError);
    expect(err?.message).not.toContain(TOKEN);
    expect(err?.message).toMatch(/ENCRYPTION_KEY/);
  });

  it('reads tokens sealed under a previous key version after a rotation', () => {
    const oldKey = randomBytes(32);
    const before = createTokenCipher({ key: oldKey, keyVersion: 1 });
    const after = createTokenCipher({ key: randomBytes(32), keyVersion: 2, previousKeys: { 1: oldKey } });
    const sealed = before.encrypt(TOKEN, 'd');
    expect(after.keyVersionOf(sealed)).toBe(1);
    expect(after.decrypt(sealed, 'd')).toBe(TOKEN);
    expect(after.keyVersionOf(after.encrypt(TOKEN, 'd'))).toBe(2);
  });

  it('says to set ENCRYPTION_KEY when there is no key, or it is the wrong size', () => {
    const none = createTokenCipher({ key: undefined });
    expect(() => none.encrypt(TOKEN, 'd')).toThrow(EncryptionKeyMissingError);
    expect(() => none.encrypt(TOKEN, 'd')).toThrow(/set ENCRYPTION_KEY/);
    expect(() => none.decrypt(cipher.encrypt(TOKEN, 'd'), 'd')).toThrow(EncryptionKeyMissingError);
    expect(() => createTokenCipher({ key: randomBytes(16) })).toThrow(EncryptionKeyMissingError);
  });
});
