import { z } from 'zod';
import { AttributeMappingSchema, KEY_IDENTIFIERS } from '../../domain/mapping.js';

const Country = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US');
const Segment = z.string().trim().min(1).max(200);
const Attribute = z.string().trim().min(1).max(200);

export const ExportConfigInputSchema = z.strictObject({
  keyIdentifier: z.enum(KEY_IDENTIFIERS).describe('The identifier every exported profile must have'),
  mapping: AttributeMappingSchema.describe('Facebook key → profile attribute'),
  segments: z.array(Segment).min(1).max(50).describe('Segments of the profile source whose union is exported'),
  mode: z.enum(['mirror', 'replace', 'add']).default('mirror'),
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
    mode: z.enum(['mirror', 'replace', 'add']),
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

export const ConsentInputSchema = z.strictObject({
  givenBy: z.string().trim().min(1).max(200).describe('The operator agreeing (id or work email)'),
  statementVersion: z.string().trim().min(1).max(50).describe('Version of the data privacy and compliance statement'),
});

export const WithdrawConsentQuerySchema = z.strictObject({
  withdrawnBy: z.string().trim().min(1).max(200).describe('The operator withdrawing consent'),
});

export const ConsentSchema = z.object({
  id: z.uuid(),
  givenBy: z.string(),
  givenAt: z.iso.datetime(),
  statementVersion: z.string(),
  withdrawnAt: z.iso.datetime().nullable(),
  withdrawnBy: z.string().nullable(),
});

export const WithdrawalSchema = z.object({
  withdrawn: z.array(ConsentSchema),
  cancelledExports: z.number().int(),
  schedulePaused: z.boolean(),
});
