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

/** Statuses our problems use, and what each means when a route does not say more. */
const PROBLEM_MEANING = {
  400: 'The request is not valid: `errors` names each field at fault',
  401: 'Missing or wrong API key',
  404: 'Not found',
  409: 'Conflicts with the current state: `detail` says what to do first',
  413: 'The body is larger than 1 MiB',
  415: 'The body is not application/json',
  422: 'Facebook refused the request',
  429: 'Facebook is throttling this ad account: retry later',
  502: 'Facebook or Temporal did not answer',
  503: 'The service is not configured for this',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_MEANING;

/**
 * The problem answers of one route, each described for that route (what a 404 or a 409 means there), for the
 * OpenAPI document. Authenticated routes always list 401. `true` takes the general meaning.
 */
export function problems(
  described: Partial<Record<ProblemStatus, string | true>>,
  options: { public?: boolean } = {},
): Partial<Record<ProblemStatus, typeof ProblemSchema>> {
  const out: Partial<Record<ProblemStatus, typeof ProblemSchema>> = {};
  const all: Partial<Record<ProblemStatus, string | true>> = options.public ? described : { ...described, 401: true };
  for (const [code, text] of Object.entries(all) as [`${ProblemStatus}`, string | true][]) {
    const status = Number(code) as ProblemStatus;
    out[status] = ProblemSchema.describe(text === true ? PROBLEM_MEANING[status] : text);
  }
  return out;
}

/** The problems of a route on one destination: a malformed or unknown id. */
export const destinationProblems = (more: Partial<Record<ProblemStatus, string | true>> = {}) =>
  problems({ 400: true, 404: 'No destination with this id', ...more });
