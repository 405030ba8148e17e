import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { toProblemError } from './error-mapping.js';
import { PROBLEM_CONTENT_TYPE, ProblemKind, toProblem, type FieldError, type ProblemError } from './problem.js';

/** The request path without its query: queries may carry an OAuth code or state, which never go back out. */
export const instanceOf = (request: FastifyRequest): string => request.url.split('?', 1)[0] ?? '/';

const CONTEXT_PREFIX: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/** Zod issues → one field error each; an unknown key names the key itself, not its parent. */
function fieldErrors(error: Parameters<typeof hasZodFastifySchemaValidationErrors>[0], context: string): FieldError[] {
  if (!hasZodFastifySchemaValidationErrors(error)) return [];
  const prefix = CONTEXT_PREFIX[context] ?? context;
  return error.validation.flatMap((v) => {
    const base = [prefix, ...v.instancePath.split('/').filter(Boolean)].join('.');
    const keys = (v.params as { keys?: unknown }).keys;
    if (v.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((k) => ({ field: `${base}.${String(k)}`, message: 'unknown field' }));
    }
    return [{ field: base, message: v.message ?? 'invalid' }];
  });
}

function send(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  kind: ProblemKind,
  detail: string,
  errors: readonly FieldError[] = [],
) {
  return reply
    .code(status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(toProblem(status, kind, detail, instanceOf(request), errors));
}

/** The one error handler: every failure of every route becomes a problem+json answer here. */
export function handleError(error: FastifyError | ProblemError | Error, request: FastifyRequest, reply: FastifyReply) {
  const mapped = toProblemError(error);
  if (mapped) {
    // Our own 5xx problems (a dependency down, missing configuration) are expected states, not bugs: no stack.
    if (mapped.status >= 500) request.log.warn({ problem: mapped.kind, detail: mapped.detail }, 'request failed');
    return send(reply, request, mapped.status, mapped.kind, mapped.detail, mapped.errors);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext ?? 'body';
    return send(
      reply,
      request,
      400,
      ProblemKind.validation,
      'Correct the fields listed in errors.',
      fieldErrors(error, context),
    );
  }
  const code = (error as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return send(
        reply,
        request,
        413,
        ProblemKind.payloadTooLarge,
        'The body is larger than the API accepts (1 MiB).',
        [{ field: 'body', message: 'too large' }],
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return send(reply, request, 415, ProblemKind.unsupportedMediaType, 'Send bodies as application/json.', [
        { field: 'headers.content-type', message: 'unsupported media type' },
      ]);
    // Router refusals (frameworkErrors in app.ts); Fastify's own answers would be plain JSON echoing the path.
    case 'FST_ERR_BAD_URL':
      return send(reply, request, 400, ProblemKind.validation, 'The URL has malformed percent-encoding.', [
        { field: 'url', message: 'malformed' },
      ]);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return send(reply, request, 414, ProblemKind.validation, 'A path parameter is longer than any id the API uses.', [
        { field: 'url', message: 'too long' },
      ]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return send(reply, request, 400, ProblemKind.malformedBody, 'The body is not valid JSON.', [
        { field: 'body', message: code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'empty' : 'malformed JSON' },
      ]);
  }
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    // Fastify's own 4xx (e.g. a bad header): its message describes the request, not our internals.
    return send(reply, request, status, ProblemKind.validation, error.message);
  }
  request.log.error({ err: error }, 'request failed');
  return send(
    reply,
    request,
    500,
    ProblemKind.internal,
    `Something went wrong on our side. Quote request id ${request.id} when you report it.`,
  );
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  return send(
    reply,
    request,
    404,
    ProblemKind.notFound,
    `No route ${request.method} ${instanceOf(request)}; see /docs.`,
    [{ field: 'url', message: 'unknown route' }],
  );
}
