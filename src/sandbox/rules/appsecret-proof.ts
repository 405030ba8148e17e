import { createHmac, timingSafeEqual } from 'node:crypto';
import { GraphError } from '../errors.js';

/** Meta: time-stamped proofs expire after 5 minutes. */
export const PROOF_MAX_AGE_S = 300;

export interface ProofInput {
  token: string;
  appSecret: string;
  proof: string | undefined;
  time: string | undefined;
  nowMs: number;
  acceptClassic: boolean;
}

const invalidProof = () => new GraphError(100, 'Invalid appsecret_proof provided in the API argument');

/** The HMAC-SHA256 (hex) of `message` keyed with the app secret. */
export function hmacHex(appSecret: string, message: string): string {
  return createHmac('sha256', appSecret).update(message).digest('hex');
}

function sameHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Validates `appsecret_proof` for an app with "Require App Secret" on: the time-stamped form
 * HMAC(`token|time`) with `appsecret_time` within 5 minutes of now (either side, for clock skew).
 * The classic form HMAC(`token`) is accepted only when configured (UNCONFIRMED at Meta).
 */
export function checkAppSecretProof(input: ProofInput): void {
  const { token, appSecret, proof, time, nowMs } = input;
  if (!proof) {
    throw new GraphError(100, 'API calls from the server require an appsecret_proof argument');
  }
  if (time === undefined || time === '') {
    if (input.acceptClassic && sameHex(proof, hmacHex(appSecret, token))) return;
    throw invalidProof();
  }
  if (!/^\d{1,12}$/.test(time)) throw invalidProof();
  const ageS = Math.abs(Math.floor(nowMs / 1000) - Number(time));
  if (ageS > PROOF_MAX_AGE_S) throw invalidProof();
  if (!sameHex(proof, hmacHex(appSecret, `${token}|${time}`))) throw invalidProof();
}
