import { graphErrors } from '../errors.js';

export const UploadKind = { Add: 'add', Remove: 'remove', Replace: 'replace' } as const;
export type UploadKind = (typeof UploadKind)[keyof typeof UploadKind];

export const SessionState = { Open: 'open', Finished: 'finished', TimedOut: 'timed_out' } as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export interface SessionParams {
  /** int64 as a decimal string (Meta answers it as a string). */
  id: string;
  batchSeq: number;
  last: boolean;
  estimatedTotal?: number;
}

export interface UploadSession {
  id: string;
  audienceId: string;
  kind: UploadKind;
  startedAtMs: number;
  state: SessionState;
  endedAtMs?: number;
  numReceived: number;
  numInvalid: number;
  estimatedTotal?: number;
  /** How many times batch 1 arrived again and restarted the session (replace). */
  restarts: number;
}

const INT64_MAX = 9223372036854775807n;
const SESSION_FIELDS = new Set(['session_id', 'batch_seq', 'last_batch_flag', 'estimated_num_total']);

function intField(value: unknown, name: string, min: number): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw graphErrors.invalidParameter(`session.${name} must be an integer >= ${min}`);
  }
  return n;
}

/** Checks a `session` object: int64 `session_id` (number or numeric string), `batch_seq` >= 1, optional flags. */
export function parseSession(raw: unknown): SessionParams {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw graphErrors.invalidParameter('Param session must be a JSON object');
  }
  const s = raw as Record<string, unknown>;
  for (const field of Object.keys(s)) {
    if (!SESSION_FIELDS.has(field)) throw graphErrors.invalidParameter(`session has an unknown field ${field}`);
  }
  let id: string;
  if (typeof s.session_id === 'number') {
    // A JSON number beyond 2^53 has already lost digits in any JSON parser: refuse rather than guess.
    if (!Number.isSafeInteger(s.session_id) || s.session_id <= 0) {
      throw graphErrors.invalidParameter('session.session_id must be a positive int64 (send big ids as strings)');
    }
    id = String(s.session_id);
  } else if (typeof s.session_id === 'string' && /^\d{1,19}$/.test(s.session_id) && BigInt(s.session_id) > 0n) {
    if (BigInt(s.session_id) > INT64_MAX) throw graphErrors.invalidParameter('session.session_id exceeds int64');
    id = BigInt(s.session_id).toString();
  } else {
    throw graphErrors.invalidParameter('session.session_id must be a positive int64');
  }
  const last = s.last_batch_flag;
  if (last !== undefined && typeof last !== 'boolean' && last !== 'true' && last !== 'false') {
    throw graphErrors.invalidParameter('session.last_batch_flag must be a boolean');
  }
  return {
    id,
    batchSeq: intField(s.batch_seq, 'batch_seq', 1),
    last: last === true || last === 'true',
    ...(s.estimated_num_total !== undefined
      ? { estimatedTotal: intField(s.estimated_num_total, 'estimated_num_total', 0) }
      : {}),
  };
}

export const BatchAction = { Start: 'start', Continue: 'continue', Restart: 'restart' } as const;
export type BatchAction = (typeof BatchAction)[keyof typeof BatchAction];

/** True when the session's window (from its first batch) has passed. */
export function isExpired(session: UploadSession, nowMs: number, windowMs: number): boolean {
  return session.state === SessionState.Open && nowMs - session.startedAtMs > windowMs;
}

/**
 * What a batch does to its session, or the error Meta answers. Replace: batch 1 must come first, and batch 1
 * again restarts the session (Meta: "resending batch 1 restarts the replace"). `/users`: batches may arrive in
 * any order (concurrent pages); no sandbox rule is documented for a first batch with seq > 1 there.
 * Both: nothing after `last_batch_flag` (2650/1870159) or after the window closed (2650/1870158).
 */
export function decideBatch(
  existing: UploadSession | undefined,
  params: SessionParams,
  kind: UploadKind,
  audienceId: string,
): BatchAction {
  if (!existing) {
    if (kind === UploadKind.Replace && params.batchSeq !== 1) {
      throw graphErrors.replace(
        1870147,
        'the first batch of a replace session must have batch_seq 1; start a new session',
      );
    }
    return BatchAction.Start;
  }
  if (existing.audienceId !== audienceId || existing.kind !== kind) {
    throw graphErrors.invalidParameter(
      `session_id ${existing.id} already belongs to another upload (${existing.kind}); use a new session_id per upload`,
    );
  }
  if (existing.state === SessionState.Finished) {
    throw graphErrors.replace(
      1870159,
      'the upload session already finished (last_batch_flag was sent); start a new session',
    );
  }
  if (existing.state === SessionState.TimedOut) {
    throw graphErrors.replace(
      1870158,
      'the upload session timed out (90 minutes after its first batch); start a new session',
    );
  }
  return kind === UploadKind.Replace && params.batchSeq === 1 ? BatchAction.Restart : BatchAction.Continue;
}
