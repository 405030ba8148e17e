import {
  AppCredentialsError,
  AuthError,
  GraphApiError,
  TermsNotAcceptedError,
  ThrottledError,
  TransientError,
} from '../facebook/index.js';
import {
  AudienceAlreadyUsedError,
  EncryptionKeyMissingError,
  InvalidCursorError,
  NotFoundError,
} from '../store/index.js';
import { ProblemError, ProblemKind } from './problem.js';

/**
 * Translates the typed errors of the store and the Graph client into problems. Their messages are written to be
 * safe to show (no tokens, no personal data) and say what to do, so they become the `detail`.
 */
export function toProblemError(err: unknown): ProblemError | undefined {
  if (err instanceof ProblemError) return err;
  if (err instanceof NotFoundError) {
    if (err.entity === 'credential') {
      return new ProblemError(409, ProblemKind.notConnected, 'Connect Facebook for this destination first.', [
        { field: 'params.id', message: 'no Facebook connection' },
      ]);
    }
    return new ProblemError(404, ProblemKind.notFound, err.message, [
      { field: 'params.id', message: `no such ${err.entity}` },
    ]);
  }
  if (err instanceof AudienceAlreadyUsedError) {
    return new ProblemError(409, ProblemKind.conflict, err.message, [
      { field: 'body.audienceId', message: 'already used by another destination' },
    ]);
  }
  if (err instanceof InvalidCursorError) {
    return new ProblemError(400, ProblemKind.validation, err.message, [
      { field: 'query.cursor', message: 'unknown cursor' },
    ]);
  }
  if (err instanceof EncryptionKeyMissingError) {
    return new ProblemError(503, ProblemKind.notConfigured, err.message, [], { cause: err });
  }
  if (err instanceof GraphApiError) return graphProblem(err);
  return undefined;
}

function graphProblem(err: GraphApiError): ProblemError {
  if (err instanceof AppCredentialsError) {
    // Our configuration, not the caller's request: no destination needs reconnecting.
    return new ProblemError(503, ProblemKind.notConfigured, err.message, [
      { field: 'FACEBOOK_APP_SECRET', message: 'Facebook refused the app id and secret' },
    ]);
  }
  if (err instanceof AuthError) {
    return new ProblemError(409, ProblemKind.notConnected, err.message, [
      { field: 'token', message: `token ${err.reason}` },
    ]);
  }
  if (err instanceof TermsNotAcceptedError) {
    return new ProblemError(409, ProblemKind.termsNotAccepted, err.message, [
      { field: 'adAccountId', message: 'terms not accepted' },
    ]);
  }
  if (err instanceof ThrottledError) return new ProblemError(429, ProblemKind.facebook, err.message);
  if (err instanceof TransientError) return new ProblemError(502, ProblemKind.facebook, err.message);
  return new ProblemError(422, ProblemKind.facebook, err.message);
}
