import { z } from 'zod';
import { AdAccountIdSchema, AudienceIdSchema } from './common.js';

const DisplayName = z.string().trim().min(1).max(200);
const AudienceName = z.string().trim().min(1).max(200);

const oneAudience = (d: { audienceId?: string | undefined; newAudienceName?: string | undefined }) =>
  d.audienceId === undefined || d.newAudienceName === undefined;
const audienceNeedsAccount = (d: { adAccountId?: string | undefined; audienceId?: string | undefined }) =>
  d.audienceId === undefined || d.adAccountId !== undefined;

export const CreateDestinationSchema = z
  .strictObject({
    displayName: DisplayName,
    adAccountId: AdAccountIdSchema.optional().describe(
      'Leave out to create a draft: connect Facebook first, then choose the ad account from what it can see',
    ),
    audienceId: AudienceIdSchema.optional().describe('An existing customer-list audience to export into'),
    newAudienceName: AudienceName.optional().describe('Name of an audience to create at the first export'),
  })
  .refine(oneAudience, { path: ['audienceId'], error: 'give at most one of audienceId and newAudienceName' })
  .refine(audienceNeedsAccount, { path: ['adAccountId'], error: 'required with audienceId' });

export const UpdateDestinationSchema = z
  .strictObject({
    displayName: DisplayName.optional(),
    adAccountId: AdAccountIdSchema.optional().describe(
      'A different ad account clears the audience chosen in the old one unless this request names one',
    ),
    audienceId: AudienceIdSchema.optional().describe('Export into this existing audience (clears newAudienceName)'),
    newAudienceName: AudienceName.optional().describe(
      'Create an audience of this name at the next export (clears audienceId)',
    ),
  })
  .refine(oneAudience, { path: ['audienceId'], error: 'give at most one of audienceId and newAudienceName' });

export const DeleteDestinationQuerySchema = z.strictObject({
  deleteAudience: z
    .enum(['true', 'false'])
    .default('false')
    .describe('Also delete the Facebook audience (permanent; ads using it stop)'),
});

export const ConnectionSchema = z
  .object({
    status: z
      .enum(['not_connected', 'connected', 'expiring_soon', 'needs_reconnect'])
      .describe(
        '`expiring_soon`: a login token expiring within 7 days; `needs_reconnect`: expired, revoked or lacking a permission',
      ),
    kind: z.enum(['system_user', 'login']).nullable(),
    scopes: z.array(z.string()).describe('Permissions the token was granted (ads_management is required)'),
    expiresAt: z.iso.datetime().nullable(),
    verifiedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Connection' });

/** What a destination is waiting for, first unmet step first (the order of setting one up). */
export const DESTINATION_STATES = [
  'draft',
  'not_connected',
  'needs_reconnect',
  'needs_consent',
  'needs_terms',
  'paused',
  'active',
  'deleted',
] as const;

const DestinationStateSchema = z
  .enum(DESTINATION_STATES)
  .describe(
    'What the destination needs before it can export, first unmet step first: `draft` (choose an ad account and an ' +
      'audience), `not_connected` (connect Facebook), `needs_reconnect` (the token expired, was revoked or lacks ' +
      'ads_management), `needs_consent` (agree to the data privacy and compliance statement), `needs_terms` (the ad ' +
      'account has not accepted the Custom Audience terms), `paused`, `active` (ready), `deleted` (being deleted)',
  );

export const DestinationSchema = z
  .object({
    id: z.uuid(),
    displayName: z.string(),
    adAccountId: z.string().nullable().describe('`act_<digits>`; null while a draft'),
    audienceId: z.string().nullable().describe('Null until the new audience is created (or while a draft)'),
    newAudienceName: z.string().nullable(),
    status: DestinationStateSchema,
    connection: ConnectionSchema,
    consent: z
      .object({ givenBy: z.string(), givenAt: z.iso.datetime(), statementVersion: z.string() })
      .nullable()
      .describe('The current consent; null when none was given or it was withdrawn'),
    lastRun: z
      .object({
        runId: z.uuid(),
        status: z.enum(['running', 'completed', 'failed', 'cancelled', 'partial']),
        startedAt: z.iso.datetime(),
        finishedAt: z.iso.datetime().nullable(),
      })
      .nullable(),
    schedule: z
      .object({
        cron: z.string().nullable(),
        intervalSeconds: z.number().nullable(),
        timezone: z.string(),
        paused: z.boolean(),
        nextRunAt: z.iso.datetime().nullable().describe('Null when paused or Temporal did not answer'),
      })
      .nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Destination' });

export const DestinationPageSchema = z.object({ items: z.array(DestinationSchema), nextCursor: z.string().nullable() });
