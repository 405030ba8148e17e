/**
 * RFC 9457 problem details: the one shape every error of the API takes, so clients handle failures in one place.
 */
export interface FieldError {
  /** Where the fault is: `body.mapping.email`, `params.id`, `query.limit`, `headers.authorization`. */
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors: FieldError[];
}

/** Stable problem kinds; `type` is `/problems/<kind>` so clients can branch on it. */
export const ProblemKind = {
  validation: 'validation',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  tooManyRequests: 'too-many-requests',
  notFound: 'not-found',
  conflict: 'conflict',
  unsupportedMediaType: 'unsupported-media-type',
  payloadTooLarge: 'payload-too-large',
  malformedBody: 'malformed-body',
  facebook: 'facebook',
  notConnected: 'not-connected',
  termsNotAccepted: 'terms-not-accepted',
  notConfigured: 'not-configured',
  unavailable: 'unavailable',
  internal: 'internal',
} as const;
export type ProblemKind = (typeof ProblemKind)[keyof typeof ProblemKind];

const TITLES: Record<ProblemKind, string> = {
  validation: 'The request is not valid',
  unauthorized: 'Missing or wrong API key',
  forbidden: "The API key's role does not allow this",
  'too-many-requests': 'Too many requests',
  'not-found': 'Not found',
  conflict: 'Conflict with the current state',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Request body too large',
  'malformed-body': 'Malformed request body',
  facebook: 'Facebook refused the request',
  'not-connected': 'Facebook is not connected',
  'terms-not-accepted': 'Custom audience terms not accepted',
  'not-configured': 'The service is not configured for this',
  unavailable: 'A dependency is unavailable',
  internal: 'Internal error',
};

/**
 * An error a route throws to answer with a problem. `detail` and `errors` reach the client: never put a token
 * or a personal data value in them.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  constructor(
    readonly status: number,
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly errors: readonly FieldError[] = [],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

export function toProblem(
  status: number,
  kind: ProblemKind,
  detail: string,
  instance: string,
  errors: readonly FieldError[] = [],
): Problem {
  return { type: `/problems/${kind}`, title: TITLES[kind], status, detail, instance, errors: [...errors] };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
