import { createHmac } from 'node:crypto';

/**
 * The time-stamped `appsecret_proof` (reference 2.4): HMAC-SHA256 of `<token>|<unix seconds>` keyed with the app
 * secret. A proof expires after 5 minutes, so it is computed per request. It is not secret (it cannot be reversed
 * and expires), which is why the client may send it in the query string.
 */
export function appSecretProof(
  token: string,
  appSecret: string,
  nowMs: number = Date.now(),
): { appsecret_proof: string; appsecret_time: string } {
  const time = Math.floor(nowMs / 1000);
  const proof = createHmac('sha256', appSecret).update(`${token}|${time}`).digest('hex');
  return { appsecret_proof: proof, appsecret_time: String(time) };
}
