import { z } from 'zod';
import { EXPORT_MODES } from '../../domain/export-terms.js';
import { AttributeMappingSchema, KEY_IDENTIFIERS } from '../../domain/mapping.js';

const Country = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US');
const Segment = z.string().trim().min(1).max(200);
const Attribute = z.string().trim().min(1).max(200);

const ModeSchema = z
  .enum(EXPORT_MODES)
  .describe(
    '`mirror` (default): make the audience equal the segments, sending only who joined, changed or left since the ' +
      'last run (the first run into an audience with members replaces it); `replace`: replace the whole audience ' +
      'in one session; `add`: only add members, never remove. Profiles whose per-profile consent is withdrawn are ' +
      'removed in every mode.',
  );

export const ExportConfigInputSchema = z.strictObject({
  keyIdentifier: z
    .enum(KEY_IDENTIFIERS)
    .describe(
      'The identifier every exported profile must have (others are dropped): EMAIL, PHONE, or NAME_ADDRESS ' +
        '(FN, LN and COUNTRY, plus ZIP or CT and ST)',
    ),
  mapping: AttributeMappingSchema.describe(
    "Facebook key → profile attribute. Map the key identifier's keys; every other key is extra: it raises the " +
      'match rate and is sent blank when unmapped. `prehashed` marks an attribute that already holds SHA-256 hex.',
  ),
  segments: z.array(Segment).min(1).max(50).describe('Segments of the profile source whose union is exported'),
  mode: ModeSchema.default('mirror'),
  consentAttribute: Attribute.nullable().default(null).describe('Profile attribute recording per-profile consent'),
  limitedDataUse: z.boolean().default(false).describe("Flag rows for Meta's Limited Data Use"),
  defaultCountry: Country.nullable().default(null).describe('Country assumed for profiles without one'),
});

export const ExportConfigSchema = z
  .object({
    destinationId: z.uuid(),
    keyIdentifier: z.enum(KEY_IDENTIFIERS),
    mapping: z.record(z.string(), z.object({ attribute: z.string(), prehashed: z.boolean().optional() })),
    segments: z.array(z.string()),
    mode: ModeSchema,
    consentAttribute: z.string().nullable(),
    limitedDataUse: z.boolean(),
    defaultCountry: z.string().nullable(),
    updatedAt: z.iso.datetime(),
    warnings: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .describe('What this config will lose though it is valid (e.g. phones without a country); empty when nothing'),
  })
  .meta({ id: 'ExportConfig' });

export const PreviewInputSchema = z.strictObject({
  segment: Segment,
  keyIdentifier: z.enum(KEY_IDENTIFIERS).optional().describe("Defaults to the destination's export config"),
  mapping: AttributeMappingSchema.optional().describe("Defaults to the destination's export config"),
  consentAttribute: Attribute.nullable().optional(),
  defaultCountry: Country.nullable().optional(),
});

export const PreviewSchema = z.object({
  segment: z.string(),
  segmentSize: z.number().int(),
  sampled: z.number().int().describe('Profiles examined: the first ones in key order, up to the sample limit'),
  sampleLimit: z.number().int(),
  usableKeyIdentifier: z.number().int().describe('Sampled profiles with a usable key identifier'),
  exportable: z.number().int().describe('Sampled profiles that would be sent'),
  keys: z.record(z.string(), z.number().int()).describe('Per mapped key: exportable sampled profiles carrying it'),
  dropped: z.record(z.string(), z.number().int()).describe('Sampled profiles that would not be sent, by reason'),
  phonesWithoutCountry: z
    .number()
    .int()
    .describe(
      'Sampled profiles whose phone is left out for want of a country (no + or 00 prefix, no COUNTRY, no ' +
        'defaultCountry): dropped as phone_country_unknown when PHONE is the key identifier, sent without it otherwise',
    ),
});

const StatementVersion = z.string().trim().min(1).max(50);

export const ConsentInputSchema = z.strictObject({
  givenBy: z.string().trim().min(1).max(200).describe('The operator agreeing (id or work email)'),
  statementVersion: StatementVersion.describe(
    'Version of the data privacy and compliance statement agreed to (GET /consent-statements)',
  ),
});

export const StatementVersionParamsSchema = z.strictObject({ version: StatementVersion });

export const ConsentStatementSchema = z
  .object({ version: z.string(), title: z.string(), paragraphs: z.array(z.string()) })
  .meta({ id: 'ConsentStatement' });

export const WithdrawConsentQuerySchema = z.strictObject({
  withdrawnBy: z.string().trim().min(1).max(200).describe('The operator withdrawing consent'),
});

export const ConsentSchema = z.object({
  id: z.uuid(),
  givenBy: z.string(),
  givenByKey: z.string().nullable().describe('Name of the API key that recorded the consent'),
  givenAt: z.iso.datetime(),
  statementVersion: z.string(),
  withdrawnAt: z.iso.datetime().nullable(),
  withdrawnBy: z.string().nullable(),
  withdrawnByKey: z.string().nullable().describe('Name of the API key that withdrew it'),
});

export const WithdrawalSchema = z.object({
  withdrawn: z.array(ConsentSchema),
  cancelledExports: z.number().int(),
  schedulePaused: z.boolean(),
});
