import { z } from 'zod';
import { AdAccountIdSchema } from './common.js';

const secret = (max: number, what: string) =>
  z.string().max(max).optional().describe(`${what} (never echoed or logged)`);

/** Fields that name the person; at least one (name+ZIP counting as one) must be given. */
const IDENTIFYING = ['profileKey', 'email', 'phone', 'externId', 'madid', 'firstName'] as const;
const NAME_ZIP = ['firstName', 'lastName', 'zip'] as const;

export const ErasureRequestSchema = z
  .strictObject({
    adAccountId: AdAccountIdSchema.optional().describe(
      'Only this ad account (default: every ad account our destinations export to)',
    ),
    destinationId: z.uuid({ error: 'must be a UUID' }).optional().describe("Or only a destination's ad account"),
    profileKey: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('The profile key in the profile source: its rows go from our snapshots and Meta'),
    email: secret(320, 'The person’s e-mail address'),
    phone: secret(64, 'The person’s phone number'),
    externId: secret(512, 'The EXTERN_ID we send for the person'),
    madid: secret(128, 'The person’s mobile advertiser id (MADID)'),
    firstName: secret(200, 'With lastName and zip: the person’s first name'),
    lastName: secret(200, 'With firstName and zip: the person’s last name'),
    zip: secret(32, 'With firstName and lastName: the person’s ZIP or postal code'),
    country: z
      .string()
      .max(64)
      .optional()
      .describe(
        "Country of the phone number (when it has no +prefix) and of the ZIP (default: each searched destination's default country)",
      ),
  })
  .superRefine((r, ctx) => {
    if (r.adAccountId !== undefined && r.destinationId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['adAccountId'],
        message: 'give at most one of adAccountId and destinationId',
      });
    }
    if (IDENTIFYING.every((f) => r[f] === undefined) && r.lastName === undefined && r.zip === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['email'],
        message: 'give a profileKey, email, phone, externId, madid, or firstName with lastName and zip',
      });
    }
    if (NAME_ZIP.some((f) => r[f] !== undefined)) {
      for (const f of NAME_ZIP) {
        if (r[f] === undefined) {
          ctx.addIssue({ code: 'custom', path: [f], message: 'firstName, lastName and zip go together' });
        }
      }
    }
  });

const Counts = {
  audiencesSearched: z.number().int().describe('Our audiences of the ad account(s) whose snapshots were searched'),
  snapshotRowsMatched: z.number().int().describe("Rows we had sent that are the person's (profile key or identifier)"),
  rowsSent: z.number().int().describe('Rows sent to usersofanyaudience (the matches plus one per identifier)'),
  numReceived: z.number().int().describe("Meta's num_received"),
  snapshotRowsDeleted: z.number().int().describe('Snapshot rows deleted (rows of profiles never sent included)'),
};

export const ErasureResultSchema = z
  .object({
    ...Counts,
    adAccounts: z.array(z.object({ adAccountId: z.string(), ...Counts })).describe('Each ad account reached'),
    unreachedAdAccounts: z
      .array(z.string())
      .describe('Ad accounts we export to that no Facebook connection reaches: connect one and repeat the request'),
    suppressionEntriesAdded: z
      .number()
      .int()
      .describe('Digests the suppression list gained: later exports leave the person out (drop reason erased)'),
  })
  .meta({ id: 'ErasureResult' });
