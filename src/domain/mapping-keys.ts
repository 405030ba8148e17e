import { FACEBOOK_KEYS, FacebookKey } from './facebook-keys.js';

// No zod here: the console bundles this module for its key identifier and mapping screens.

/** Which identifier a profile must have to be sent at all. */
export const KEY_IDENTIFIERS = ['EMAIL', 'PHONE', 'NAME_ADDRESS'] as const;
export type KeyIdentifier = (typeof KEY_IDENTIFIERS)[number];

/** `DOB`: one attribute holding a full date of birth, expanded to DOBY, DOBM and DOBD. */
export const DOB = 'DOB';
export const MAPPABLE_KEYS = [...FACEBOOK_KEYS, DOB] as const;
export type MappableKey = FacebookKey | typeof DOB;

/** The keys a key identifier needs; NAME_ADDRESS also needs ZIP, or city and state. */
export const REQUIRED_KEYS: Readonly<Record<KeyIdentifier, readonly FacebookKey[]>> = {
  EMAIL: [FacebookKey.EMAIL],
  PHONE: [FacebookKey.PHONE],
  NAME_ADDRESS: [FacebookKey.FN, FacebookKey.LN, FacebookKey.COUNTRY],
};
