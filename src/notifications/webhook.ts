import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { NotificationEvent } from './events.js';

export const SIGNATURE_HEADER = 'x-audience-export-signature';
export const TIMESTAMP_HEADER = 'x-audience-export-timestamp';

export interface WebhookTarget {
  url: string;
  /** Signs every delivery when set (strongly advised). */
  secret?: string;
  /** @default 10_000 */
  timeoutMs?: number;
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, as Stripe does: the timestamp lets receivers refuse replays. */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The receiver answered with a status that is not 2xx; `retryable` says whether asking again may help. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  constructor(
    readonly status: number,
    readonly eventType: string,
    readonly retryable: boolean,
  ) {
    super(
      `The webhook receiver answered HTTP ${status} to a ${eventType} event` +
        (retryable ? '; delivery will be retried.' : ': fix the receiver or WEBHOOK_URL; it will not be retried.'),
    );
  }
}

/** POSTs one event as JSON, signed. Throws WebhookDeliveryError on a non-2xx answer, or the network error. */
export async function deliverEvent(target: WebhookTarget, event: NotificationEvent, now = Date.now()): Promise<void> {
  const body = JSON.stringify(event);
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'audience-export-webhook/1',
    [TIMESTAMP_HEADER]: String(timestamp),
  };
  if (target.secret) headers[SIGNATURE_HEADER] = signPayload(target.secret, timestamp, body);
  const res = await request(target.url, {
    method: 'POST',
    headers,
    body,
    headersTimeout: target.timeoutMs ?? 10_000,
    bodyTimeout: target.timeoutMs ?? 10_000,
  });
  await res.body.dump();
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const retryable = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429;
    throw new WebhookDeliveryError(res.statusCode, event.type, retryable);
  }
}
