import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/server.js';
import { admin, bucUsage, createAudience, expectGraphError, graph, h, testClock, withSandbox } from './graph-call.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});
const upload = (s: Sandbox, aud: string) =>
  graph(s, 'POST', `${aud}/users`, { body: { payload: { schema: ['EMAIL'], data: [[h(1)]] } } });
const usage = bucUsage;

describe('faults', () => {
  it('adds latency, fixed or ranged, changeable at runtime', async () => {
    sb = await withSandbox({ faults: { latencyMs: 150 } });
    let t = performance.now();
    await graph(sb, 'GET', 'me');
    expect(performance.now() - t).toBeGreaterThanOrEqual(140);
    const updated = await admin(sb, 'PUT', 'faults', { latencyMs: [0, 5] });
    expect(updated.latencyMs).toEqual([0, 5]);
    expect(sb.faults.get().latencyMs).toEqual([0, 5]);
    t = performance.now();
    await graph(sb, 'GET', 'me');
    expect(performance.now() - t).toBeLessThan(140);
  });

  it('returns the usage header on normal calls and throttles per ad account with 80003/2446079', async () => {
    const clock = testClock();
    sb = await withSandbox({ now: clock.now });
    const account = sb.fixtures.adAccountId.slice(4);
    const aud = await createAudience(sb);
    const normal = await upload(sb, aud);
    expect(usage(normal, account)).toMatchObject({ type: 'custom_audience', estimated_time_to_regain_access: 0 });
    sb.faults.set({ throttle: { callsPerWindow: 3, windowMs: 3_600_000, blockMs: 90_000 } });
    for (let i = 0; i < 3; i++) expect((await upload(sb, aud)).status).toBe(200);
    const blocked = await upload(sb, aud);
    expectGraphError(blocked, 80003, 2446079);
    expect(blocked.body.error.is_transient).toBe(true);
    expect(usage(blocked, account)).toMatchObject({ call_count: 100, estimated_time_to_regain_access: 2 });
    expect(blocked.headers['x-sandbox-retry-after-ms']).toBe('90000');
    // Calling during the block extends it.
    clock.advance(60_000);
    expectGraphError(await upload(sb, aud), 80003);
    clock.advance(60_000);
    expectGraphError(await upload(sb, aud), 80003);
    clock.advance(91_000);
    expect((await upload(sb, aud)).status).toBe(200);
    // Other calls not bound to an ad account are not metered.
    expect((await graph(sb, 'GET', 'me')).headers['x-business-use-case-usage']).toBeUndefined();
  });

  it('honours an explicit retryAfterMs hint', async () => {
    sb = await withSandbox({ faults: { throttle: { callsPerWindow: 1, blockMs: 2000, retryAfterMs: 1500 } } });
    const aud = await createAudience(sb);
    const blocked = await upload(sb, aud);
    expectGraphError(blocked, 80003);
    expect(blocked.headers['x-sandbox-retry-after-ms']).toBe('1500');
    expect(usage(blocked, sb.fixtures.adAccountId.slice(4))?.estimated_time_to_regain_access).toBe(1);
  });

  it('answers transient errors as JSON (code 2) or as an HTML 500 page', async () => {
    sb = await withSandbox({ faults: { transientErrorRate: 1 } });
    const json = await graph(sb, 'GET', 'me');
    expectGraphError(json, 2);
    expect(json.body.error.is_transient).toBe(true);
    sb.faults.set({ transientErrorKind: 'html' });
    const html = await graph(sb, 'GET', 'me');
    expect(html.status).toBe(500);
    expect(String(html.headers['content-type'])).toContain('text/html');
    expect(html.text).toContain('Sorry, something went wrong');
    sb.faults.set({ transientErrorRate: 0 });
    expect((await graph(sb, 'GET', 'me')).status).toBe(200);
  });

  it('fails named routes transiently, a counted number of times or every time', async () => {
    sb = await withSandbox({
      faults: { failingRoutes: [{ route: 'GET node/sessions' }, { route: 'GET me', times: 2 }] },
    });
    const aud = await createAudience(sb);
    for (let i = 0; i < 2; i++) {
      const failed = await graph(sb, 'GET', 'me');
      expectGraphError(failed, 2);
      expect(failed.body.error.is_transient).toBe(true);
    }
    expect((await graph(sb, 'GET', 'me')).status).toBe(200);
    expect(sb.faults.get().failingRoutes).toEqual([{ route: 'GET node/sessions' }]);
    for (let i = 0; i < 3; i++) expectGraphError(await graph(sb, 'GET', `${aud}/sessions?session_id=1`), 2);
    expect((await graph(sb, 'GET', `${aud}?fields=id`)).status).toBe(200);
  });

  it('expires a token at a given time', async () => {
    const clock = testClock();
    sb = await withSandbox({ now: clock.now });
    sb.faults.set({ tokenExpiry: { [sb.fixtures.systemUserToken]: clock.now() + 1000 } });
    expect((await graph(sb, 'GET', 'me')).status).toBe(200);
    clock.advance(1000);
    expectGraphError(await graph(sb, 'GET', 'me'), 190, 463);
  });

  it('flags an audience (471) on its Nth call and deletes one at a given moment', async () => {
    const clock = testClock();
    sb = await withSandbox({ now: clock.now });
    const flagged = await createAudience(sb);
    const doomed = await createAudience(sb);
    sb.faults.set({
      audienceFaults: [
        { audienceId: flagged, kind: 'flagged', onCall: 2 },
        { audienceId: doomed, kind: 'deleted', atMs: clock.now() + 5000 },
      ],
    });
    expect((await upload(sb, flagged)).status).toBe(200);
    expectGraphError(await upload(sb, flagged), 100, 1713230);
    expect((await graph(sb, 'GET', `${flagged}?fields=operation_status`)).body.operation_status.code).toBe(471);
    expect((await upload(sb, doomed)).status).toBe(200);
    clock.advance(5000);
    expectGraphError(await upload(sb, doomed), 100, 33);
  });

  it('refuses an invalid fault configuration', async () => {
    sb = await withSandbox();
    const res = await admin(sb, 'PUT', 'faults', { transientErrorRate: 2 });
    expect(res.error).toBeTruthy();
    expect(sb.faults.get().transientErrorRate).toBe(0);
  });
});
