import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/** The headers every page the login callback answers must carry (the list). */
export function expectCallbackPageHeaders(res: LightMyRequestResponse): void {
  const csp = String(res.headers['content-security-policy']);
  expect(csp.split(';').map((d) => d.trim())).toEqual(
    expect.arrayContaining(["default-src 'none'", "frame-ancestors 'none'"]),
  );
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  // Nothing on the page needs the policy loosened.
  expect(res.body).not.toMatch(/<script|<style|<link|<img|style="/);
}
