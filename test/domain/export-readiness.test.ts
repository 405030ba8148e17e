import { describe, expect, it } from 'vitest';
import {
  destinationProblem,
  needsReconnect,
  ReadinessCheck,
  setupProblem,
  tokenProblem,
  type ReadinessDestination,
} from '../../src/domain/export-readiness.js';

const ready: ReadinessDestination = {
  id: 'd-1',
  displayName: 'VIP',
  deleted: false,
  adAccountId: 'act_1',
  audienceId: null,
  newAudienceName: 'VIP customers',
};
const complete = { consentCurrent: true, hasExportConfig: true, connected: true };
const NOW = Date.parse('2026-06-01T00:00:00Z');

describe('export readiness (shared by the API start check and the run validation)', () => {
  it('passes a destination with its account and audience chosen, consent, a config and a working token', () => {
    expect(destinationProblem(ready)).toBeUndefined();
    expect(setupProblem(ready, complete)).toBeUndefined();
    expect(tokenProblem(ready, { valid: true, expiresAt: null, scopes: ['ads_management'] }, NOW)).toBeUndefined();
  });

  it('refuses a deleted destination before a draft, and names the field a draft lacks', () => {
    expect(destinationProblem({ ...ready, deleted: true, adAccountId: null })?.check).toBe(
      ReadinessCheck.DestinationDeleted,
    );
    expect(destinationProblem({ ...ready, adAccountId: null })).toMatchObject({
      check: ReadinessCheck.DestinationIncomplete,
      field: 'adAccountId',
    });
    expect(destinationProblem({ ...ready, newAudienceName: null })).toMatchObject({ field: 'audienceId' });
    expect(destinationProblem({ ...ready, audienceId: '2385', newAudienceName: null })).toBeUndefined();
  });

  it('checks consent, then the export config, then the connection, each saying where to fix it', () => {
    const none = { consentCurrent: false, hasExportConfig: false, connected: false };
    expect(setupProblem(ready, none)).toMatchObject({ check: ReadinessCheck.ConsentMissing, field: 'consent' });
    expect(setupProblem(ready, none)?.message).toContain('POST /destinations/d-1/consent');
    expect(setupProblem(ready, { ...none, consentCurrent: true })?.message).toContain(
      'PUT /destinations/d-1/export-config',
    );
    expect(setupProblem(ready, { ...complete, connected: false })).toMatchObject({
      check: ReadinessCheck.NotConnected,
      field: 'connection',
    });
  });

  it('tells an expired, invalid or under-permitted token apart; all of them need reconnecting', () => {
    const expired = tokenProblem(ready, { valid: true, expiresAt: new Date(NOW - 1) }, NOW)!;
    expect(expired).toMatchObject({ check: ReadinessCheck.TokenInvalid, reason: 'token expired' });
    expect(expired.message).toMatch(/^Reconnect Facebook for destination 'VIP'.*expired on 2026-05-31T23:59:59\.999Z/);
    const otherApp = tokenProblem(ready, { valid: false, expiresAt: null, invalidReason: 'other_app' }, NOW)!;
    expect(otherApp.message).toContain('issued for another Facebook app');
    // Permissions are judged only when Facebook was asked (the stored credential does not know them).
    expect(tokenProblem(ready, { valid: true, expiresAt: null }, NOW)).toBeUndefined();
    const noScope = tokenProblem(ready, { valid: true, expiresAt: null, scopes: ['ads_read'] }, NOW)!;
    expect(noScope.check).toBe(ReadinessCheck.PermissionMissing);
    for (const p of [expired, otherApp, noScope]) expect(needsReconnect(p)).toBe(true);
    expect(needsReconnect(setupProblem(ready, { ...complete, consentCurrent: false })!)).toBe(false);
  });
});
