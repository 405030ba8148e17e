import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object. A safety net only: code must not log tokens
 * or personal data in the first place. The OAuth names (client_secret, code, state, input_token,
 * fb_exchange_token) are those of Meta's token exchange and of our login callback's query.
 */
const SECRET_NAMES = [
  'token',
  'accessToken',
  'access_token',
  'authorization',
  'appsecret_proof',
  'appSecret',
  'client_secret',
  'input_token',
  'fb_exchange_token',
  'state',
  'payload',
  'email',
  'phone',
];
const REDACT_PATHS = [
  ...SECRET_NAMES.flatMap((n) => [n, `*.${n}`]),
  'headers.authorization',
  'req.headers.authorization',
  // `code` alone: an error's `code` one level down (SQLSTATE, Node's ECONNRESET) is worth keeping.
  'code',
  'query.code',
  '*.query.code',
  'params.code',
  '*.params.code',
];

/**
 * Fields of errors that can quote data: PostgreSQL's `detail` ("Key (profile_key)=(…) already exists"), `where`
 * and `internalQuery` (a statement with its values), `hint`, and the `parameters`/`params` some drivers attach.
 */
const ERROR_FIELDS_DROPPED = new Set(['detail', 'where', 'internalQuery', 'hint', 'parameters', 'params', 'values']);
const MAX_CAUSES = 5;

type Serialized = Record<string, unknown>;

/**
 * pino's error serializer (type, message, stack, own fields, cause chain) without the fields that can quote data,
 * on the error and on every cause it carries.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out = stdSerializers.err(err) as unknown as Serialized;
  for (const name of Object.keys(out)) if (ERROR_FIELDS_DROPPED.has(name)) delete out[name];
  if (err.cause instanceof Error && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  else delete out.cause;
  // An AggregateError's parts are errors too.
  if (Array.isArray(out.errors)) out.errors = (err as AggregateError).errors.map((e) => serializeError(e, depth + 1));
  return out;
}

/** The one logger factory: redaction and the error serializer apply to every line of every process. */
export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  name = 'audience-export',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
