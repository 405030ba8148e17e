/** Stable codes for store failures, so the API and activities can map them without matching on messages. */
export const StoreErrorCode = {
  NotFound: 'NOT_FOUND',
  AudienceAlreadyUsed: 'AUDIENCE_ALREADY_USED',
  EncryptionKeyMissing: 'ENCRYPTION_KEY_MISSING',
  TokenUndecryptable: 'TOKEN_UNDECRYPTABLE',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
}

export type StoreEntity = 'destination' | 'credential' | 'consent' | 'export config' | 'export run';

export class NotFoundError extends StoreError {
  override readonly name = 'NotFoundError';
  readonly code = StoreErrorCode.NotFound;
  constructor(
    readonly entity: StoreEntity,
    readonly id: string,
  ) {
    super(`No ${entity} with id ${id}: check the id, or create the ${entity} first.`);
  }
}

/** Two destinations may not point at one audience: their exports would undo each other (design "Modes"). */
export class AudienceAlreadyUsedError extends StoreError {
  override readonly name = 'AudienceAlreadyUsedError';
  readonly code = StoreErrorCode.AudienceAlreadyUsed;
  constructor(
    readonly adAccountId: string,
    readonly audienceId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Audience ${audienceId} in ${adAccountId} already belongs to another destination: ` +
        'pick another audience, create a new one, or delete the other destination first.',
      options,
    );
  }
}

export class EncryptionKeyMissingError extends StoreError {
  override readonly name = 'EncryptionKeyMissingError';
  readonly code = StoreErrorCode.EncryptionKeyMissing;
  constructor(readonly detail = 'no key is configured') {
    super(
      `Cannot encrypt or decrypt Facebook tokens (${detail}): set ENCRYPTION_KEY to 32 random bytes, ` +
        'base64-encoded (openssl rand -base64 32), the same on the API and the worker.',
    );
  }
}

/** The stored token cannot be read: tampered, or written under a key we no longer hold. */
export class TokenUndecryptableError extends StoreError {
  override readonly name = 'TokenUndecryptableError';
  readonly code = StoreErrorCode.TokenUndecryptable;
  constructor(
    readonly keyVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `The stored Facebook token cannot be decrypted (key version ${keyVersion ?? 'unknown'}): ` +
        'check ENCRYPTION_KEY is the key it was saved under, or reconnect Facebook to store a new token.',
      options,
    );
  }
}
