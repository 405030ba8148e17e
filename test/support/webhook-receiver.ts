import { timingSafeEqual } from 'node:crypto';
import { signPayload } from '../../src/notifications/webhook.js';

/** What a receiver does with our signature: checks it and that the timestamp is within `toleranceSeconds` of now. */
export function verifySignature(
  secret: string,
  headers: { signature?: string; timestamp?: string },
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const ts = Number(headers.timestamp);
  if (!headers.signature || !Number.isInteger(ts)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, ts, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
