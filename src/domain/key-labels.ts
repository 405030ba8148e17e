import type { KeyIdentifier, MappableKey } from './mapping-keys.js';

/** What each Facebook key holds, in words for people (the console's labels, the API document's descriptions). */
export const KEY_LABELS: Readonly<Record<MappableKey, string>> = {
  EXTERN_ID: 'External id: your own id of the person (sent unhashed)',
  EMAIL: 'E-mail address',
  PHONE: 'Phone number (with country code, or a country to assume)',
  DOBY: 'Year of birth',
  DOBM: 'Month of birth',
  DOBD: 'Day of birth',
  DOB: 'Date of birth (a full date; sent as year, month and day)',
  LN: 'Last name',
  FN: 'First name',
  FI: 'First initial',
  GEN: 'Gender (m or f)',
  CT: 'City',
  ST: 'State or province',
  ZIP: 'ZIP or postal code',
  COUNTRY: 'Country (ISO code or name)',
  MADID: 'Mobile advertiser id (sent unhashed)',
};

/** The key identifiers by the names the connector shows. */
export const KEY_IDENTIFIER_LABELS: Readonly<Record<KeyIdentifier, string>> = {
  EMAIL: 'Email',
  NAME_ADDRESS: 'Name and address',
  PHONE: 'Phone',
};
