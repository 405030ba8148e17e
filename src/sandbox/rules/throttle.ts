import { GraphError } from '../errors.js';

export interface ThrottleSettings {
  callsPerWindow: number;
  windowMs: number;
  blockMs: number;
  retryAfterMs?: number | undefined;
}

export interface AccountMeter {
  windowStartMs: number;
  calls: number;
  blockedUntilMs: number;
}

export interface BucUsageEntry {
  type: 'custom_audience';
  call_count: number;
  total_cputime: number;
  total_time: number;
  estimated_time_to_regain_access: number;
  ads_api_access_tier: 'standard_access';
}

/** Meta's Limited-tier custom_audience budget per hour: 5,000 + 40 per active audience. */
export function defaultBudget(activeAudiences: number): number {
  return 5000 + 40 * activeAudiences;
}

export function newMeter(nowMs: number): AccountMeter {
  return { windowStartMs: nowMs, calls: 0, blockedUntilMs: 0 };
}

/**
 * Counts one call against an ad account's budget. Over budget starts a block; any call during a block
 * restarts it (Meta: calling while throttled extends the block). Returns whether this call is refused.
 */
export function meterCall(meter: AccountMeter, settings: ThrottleSettings, nowMs: number): boolean {
  if (nowMs < meter.blockedUntilMs) {
    meter.blockedUntilMs = nowMs + settings.blockMs;
    return true;
  }
  if (nowMs - meter.windowStartMs >= settings.windowMs || meter.blockedUntilMs !== 0) {
    meter.windowStartMs = nowMs;
    meter.calls = 0;
    meter.blockedUntilMs = 0;
  }
  meter.calls++;
  if (meter.calls > settings.callsPerWindow) {
    meter.blockedUntilMs = nowMs + settings.blockMs;
    return true;
  }
  return false;
}

/** The `custom_audience` entry of `x-business-use-case-usage`: percentages, and the wait in whole minutes. */
export function usageEntry(meter: AccountMeter, budget: number, nowMs: number): BucUsageEntry {
  const blockedMs = Math.max(0, meter.blockedUntilMs - nowMs);
  const pct = blockedMs > 0 ? 100 : Math.min(100, Math.round((meter.calls * 100) / budget));
  return {
    type: 'custom_audience',
    call_count: pct,
    total_cputime: Math.round(pct / 2),
    total_time: Math.round(pct / 2),
    estimated_time_to_regain_access: Math.ceil(blockedMs / 60_000),
    ads_api_access_tier: 'standard_access',
  };
}

export function usageHeader(accountDigits: string, entry: BucUsageEntry): string {
  return JSON.stringify({ [accountDigits]: [entry] });
}

/**
 * The throttling error (80003/2446079). Real Meta only says minutes; the sandbox also sends
 * `x-sandbox-retry-after-ms` so tests can use blocks of seconds (clients must treat it as optional).
 */
export function throttledError(meter: AccountMeter, settings: ThrottleSettings, nowMs: number): GraphError {
  const remaining = settings.retryAfterMs ?? Math.max(0, meter.blockedUntilMs - nowMs);
  return new GraphError(
    80003,
    '(#80003) There have been too many calls to this ad-account. Wait a bit and try again.',
    {
      subcode: 2446079,
      isTransient: true,
      headers: { 'x-sandbox-retry-after-ms': String(remaining) },
    },
  );
}
