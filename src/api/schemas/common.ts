import { z } from 'zod';

export const IdParamsSchema = z.strictObject({ id: z.uuid({ error: 'must be a UUID' }) });

export const PageQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export const AdAccountIdSchema = z
  .string()
  .regex(/^(act_)?\d{1,20}$/, 'must be an ad account id such as act_1234567890')
  .describe('`act_<digits>` or the bare digits');

export const AudienceIdSchema = z.string().regex(/^\d{1,25}$/, 'must be a numeric audience id');

/** What every 4xx/5xx answers (RFC 9457), for the OpenAPI document. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })),
  })
  .meta({ id: 'Problem' });

export const problemResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
} as const;
