import { z } from 'zod';
import { AdAccountIdSchema } from './common.js';

export const ErasureRequestSchema = z
  .strictObject({
    adAccountId: AdAccountIdSchema.optional().describe('The ad account whose audiences the person leaves'),
    destinationId: z.uuid({ error: 'must be a UUID' }).optional().describe('Or a destination: its ad account'),
    email: z.string().max(320).optional().describe('The person’s e-mail address (never echoed or logged)'),
    phone: z.string().max(64).optional().describe('The person’s phone number (never echoed or logged)'),
    country: z
      .string()
      .max(64)
      .optional()
      .describe("Country of the phone number when it has no +prefix (default: the destination's default country)"),
  })
  .refine((r) => (r.adAccountId === undefined) !== (r.destinationId === undefined), {
    path: ['adAccountId'],
    error: 'give exactly one of adAccountId and destinationId',
  })
  .refine((r) => r.email !== undefined || r.phone !== undefined, {
    path: ['email'],
    error: 'give an email or a phone (or both)',
  });

export const ErasureResultSchema = z
  .object({
    adAccountId: z.string(),
    audiencesSearched: z.number().int().describe('Our audiences of the ad account whose snapshots were searched'),
    snapshotRowsMatched: z.number().int().describe('Rows we had sent that hold the identifier'),
    rowsSent: z.number().int().describe('Rows sent to usersofanyaudience (the matches plus one per identifier)'),
    numReceived: z.number().int().describe("Meta's num_received"),
    snapshotRowsDeleted: z.number().int(),
  })
  .meta({ id: 'ErasureResult' });
