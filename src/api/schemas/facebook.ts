import { z } from 'zod';
import { AdAccountIdSchema } from './common.js';

export const SystemUserTokenSchema = z.strictObject({
  token: z.string().trim().min(20, 'too short for a Facebook token').max(2048).describe('A system user access token'),
});

/** Facebook's redirect: unknown parameters are tolerated (Meta adds some), only these are read. */
export const CallbackQuerySchema = z.object({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(1024, 'too long for a state this service issued'),
  error: z.string().max(200).optional(),
  error_reason: z.string().max(200).optional(),
});

/** Console paths only, so the signed state can never send a person to another site. */
export const ReturnToSchema = z
  .string()
  .max(300)
  .regex(/^\/console(\/[A-Za-z0-9_\-/]*)?$/, 'must be a path of the console, such as /console/destinations/<id>')
  .describe('Where the callback sends the person once connected: a path of the console');

export const ConnectQuerySchema = z.strictObject({
  redirect: z
    .enum(['true', 'false'])
    .default('true')
    .describe('`false` answers 200 with the dialog URL as JSON (for the console, which sends the API key in a header)'),
  returnTo: ReturnToSchema.optional(),
});

export const LoginDialogSchema = z
  .object({
    dialogUrl: z.url().describe("Facebook's login dialog: open it in the browser"),
    expiresAt: z.iso.datetime().describe('The login must be finished before this'),
  })
  .meta({ id: 'LoginDialog' });

export const AdAccountParamsSchema = z.strictObject({
  id: z.uuid({ error: 'must be a UUID' }),
  adAccountId: AdAccountIdSchema,
});

export const AudiencePageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(500).optional().describe('`after` of the previous page'),
});

const Status = z.object({ code: z.number(), description: z.string() }).optional();

export const AdAccountSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  accountStatus: z.number().optional(),
  business: z.object({ id: z.string(), name: z.string().optional() }).optional(),
  customAudienceTermsAccepted: z.boolean(),
  termsUrl: z.string().nullable().describe("Meta's page to accept the Custom Audience terms, when not accepted"),
});

export const AdAccountListSchema = z.object({ items: z.array(AdAccountSchema) }).meta({ id: 'AdAccountList' });

export const AudienceListSchema = z
  .object({
    adAccountId: z.string(),
    customAudienceTermsAccepted: z.boolean(),
    termsUrl: z.string().nullable(),
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string().optional(),
        description: z.string().optional(),
        sizeLowerBound: z.number().optional(),
        sizeUpperBound: z.number().optional(),
        operationStatus: Status,
        deliveryStatus: Status,
        usedBy: z
          .object({ destinationId: z.uuid(), displayName: z.string() })
          .nullable()
          .describe('Another destination that exports into this audience; it cannot be chosen (one per audience)'),
      }),
    ),
    after: z.string().nullable().describe('Pass as `after` for the next page; null on the last'),
  })
  .meta({ id: 'AudienceList' });
