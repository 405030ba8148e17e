import { z } from 'zod';
import { AdAccountIdSchema, AudienceIdSchema } from './common.js';

const DisplayName = z.string().trim().min(1).max(200);
const AudienceName = z.string().trim().min(1).max(200);

export const CreateDestinationSchema = z
  .strictObject({
    displayName: DisplayName,
    adAccountId: AdAccountIdSchema,
    audienceId: AudienceIdSchema.optional().describe('An existing customer-list audience to export into'),
    newAudienceName: AudienceName.optional().describe('Name of an audience to create at the first export'),
  })
  .refine((d) => (d.audienceId === undefined) !== (d.newAudienceName === undefined), {
    path: ['audienceId'],
    error: 'give exactly one of audienceId and newAudienceName',
  });

export const UpdateDestinationSchema = z.strictObject({
  displayName: DisplayName.optional(),
  adAccountId: AdAccountIdSchema.optional(),
  audienceId: AudienceIdSchema.optional(),
  newAudienceName: AudienceName.optional(),
});

export const DeleteDestinationQuerySchema = z.strictObject({
  deleteAudience: z
    .enum(['true', 'false'])
    .default('false')
    .describe('Also delete the Facebook audience (permanent; ads using it stop)'),
});

export const ConnectionSchema = z.object({
  status: z.enum(['not_connected', 'connected', 'expiring_soon', 'needs_reconnect']),
  kind: z.enum(['system_user', 'login']).nullable(),
  scopes: z.array(z.string()),
  expiresAt: z.iso.datetime().nullable(),
  verifiedAt: z.iso.datetime().nullable(),
});

export const DestinationSchema = z
  .object({
    id: z.uuid(),
    displayName: z.string(),
    adAccountId: z.string(),
    audienceId: z.string().nullable(),
    newAudienceName: z.string().nullable(),
    status: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Destination' });

export const DestinationDetailSchema = DestinationSchema.extend({
  connection: ConnectionSchema,
  consent: z.object({ givenBy: z.string(), givenAt: z.iso.datetime(), statementVersion: z.string() }).nullable(),
});

export const DestinationPageSchema = z.object({ items: z.array(DestinationSchema), nextCursor: z.string().nullable() });
