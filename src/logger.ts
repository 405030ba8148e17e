import { pino, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object. A safety net only: code must not log tokens
 * or personal data in the first place.
 */
const REDACT_PATHS = [
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'appsecret_proof',
  '*.appsecret_proof',
  'appSecret',
  '*.appSecret',
  'payload',
  '*.payload',
  'email',
  '*.email',
  'phone',
  '*.phone',
];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'audience-export'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}

export type { Logger };
