import { z } from 'zod';
import { FACEBOOK_KEYS, FacebookKey, isHashedKey } from './facebook-keys.js';
import { KEY_LABELS } from './key-labels.js';
import { KEY_IDENTIFIERS, MAPPABLE_KEYS, REQUIRED_KEYS, type KeyIdentifier, type MappableKey } from './mapping-keys.js';

export { DOB, KEY_IDENTIFIERS, MAPPABLE_KEYS, REQUIRED_KEYS } from './mapping-keys.js';
export type { KeyIdentifier, MappableKey } from './mapping-keys.js';

export interface MappedAttribute {
  /** The profile attribute (source column) holding the value. */
  attribute: string;
  /** The attribute already holds lowercase or uppercase SHA-256 hex of the normalised value. */
  prehashed?: boolean;
}

/** Profile attributes to Facebook keys; unmapped keys are sent blank. */
export type AttributeMapping = { [key in MappableKey]?: MappedAttribute };

export const MappedAttributeSchema = z.strictObject({
  attribute: z.string().trim().min(1).max(200),
  prehashed: z.boolean().optional(),
});

export const AttributeMappingSchema = z.strictObject(
  Object.fromEntries(
    MAPPABLE_KEYS.map((key) => [key, MappedAttributeSchema.optional().describe(KEY_LABELS[key])]),
  ) as Record<MappableKey, z.ZodOptional<typeof MappedAttributeSchema>>,
);

export interface MappingProblem {
  /** Path of the offending field in an export config, e.g. `mapping.EMAIL`. */
  readonly field: string;
  readonly message: string;
}

/** Everything wrong with a mapping for a key identifier; empty when it can be used. */
export function validateMapping(keyIdentifier: KeyIdentifier, mapping: AttributeMapping): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const required = REQUIRED_KEYS[keyIdentifier] as readonly FacebookKey[] | undefined;
  if (required === undefined) {
    return [{ field: 'keyIdentifier', message: `Use one of ${KEY_IDENTIFIERS.join(', ')}.` }];
  }
  for (const key of required) {
    if (mapping[key] === undefined) {
      problems.push({
        field: `mapping.${key}`,
        message: `The key identifier ${keyIdentifier} needs ${key}: map it to a profile attribute.`,
      });
    }
  }
  if (
    keyIdentifier === 'NAME_ADDRESS' &&
    mapping.ZIP === undefined &&
    (mapping.CT === undefined || mapping.ST === undefined)
  ) {
    problems.push({
      field: 'mapping.ZIP',
      message: 'The key identifier NAME_ADDRESS needs ZIP, or both CT (city) and ST (state): map them.',
    });
  }
  if (mapping.DOB !== undefined) {
    for (const part of [FacebookKey.DOBY, FacebookKey.DOBM, FacebookKey.DOBD]) {
      if (mapping[part] !== undefined) {
        problems.push({ field: `mapping.${part}`, message: `Map either DOB (a full date) or ${part}, not both.` });
      }
    }
    if (mapping.DOB.prehashed === true) {
      problems.push({
        field: 'mapping.DOB',
        message: 'A full date of birth cannot be pre-hashed: map pre-hashed DOBY, DOBM and DOBD separately.',
      });
    }
  }
  for (const key of FACEBOOK_KEYS) {
    if (!isHashedKey(key) && mapping[key]?.prehashed === true) {
      problems.push({ field: `mapping.${key}.prehashed`, message: `${key} is sent unhashed: remove prehashed.` });
    }
  }
  return problems;
}

/** Keys Meta receives in clear (facebook-keys.ts): the profile source says which columns may feed them. */
const PLAINTEXT_KEYS = FACEBOOK_KEYS.filter((key) => !isHashedKey(key));

/** The keys sent in clear mapped to a column the profile source does not list in `plaintextColumns`. */
export function plaintextMappingProblems(
  mapping: AttributeMapping,
  plaintextColumns: readonly string[],
): MappingProblem[] {
  return PLAINTEXT_KEYS.flatMap((key) => {
    const attribute = mapping[key]?.attribute;
    if (attribute === undefined || plaintextColumns.includes(attribute)) return [];
    return [
      {
        field: `mapping.${key}.attribute`,
        message:
          `${key} is sent to Meta unhashed, and the profile source does not list ${attribute} in plaintextColumns: ` +
          'map a column that holds ids only, or list it there (PROFILE_SOURCE) if it holds nothing personal.',
      },
    ];
  });
}

/**
 * What a usable mapping will still lose, said when it is saved (it is saved all the same). A phone is read in its
 * row's country: with neither an unhashed COUNTRY nor a default country, only phones written with `+` or `00` and
 * their calling code can be sent.
 */
export function mappingWarnings(mapping: AttributeMapping, defaultCountry?: string | null): MappingProblem[] {
  const phone = mapping.PHONE;
  if (phone === undefined || phone.prehashed === true) return [];
  const rowCountry = mapping.COUNTRY !== undefined && mapping.COUNTRY.prehashed !== true;
  if (rowCountry || (defaultCountry ?? '') !== '') return [];
  return [
    {
      field: 'mapping.PHONE',
      message:
        'Phones are read in their country and neither COUNTRY nor defaultCountry gives one: only phones written ' +
        'with + or 00 and a country code are sent, the others are left out (drop reason phone_country_unknown). ' +
        'Map COUNTRY or set defaultCountry.',
    },
  ];
}

/** The distinct profile attributes a run must read (and freeze), in canonical key order, consent last. */
export function mappedAttributes(mapping: AttributeMapping, consentAttribute?: string): string[] {
  const names = new Set<string>();
  for (const key of MAPPABLE_KEYS) {
    const mapped = mapping[key];
    if (mapped !== undefined) names.add(mapped.attribute);
  }
  if (consentAttribute !== undefined) names.add(consentAttribute);
  return [...names];
}
