import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAudience, graph, h, members, withSandbox } from './graph-call.js';

const dir = await mkdtemp(join(tmpdir(), 'sandbox-state-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sandbox state file', () => {
  it('keeps audiences and their members, hashed and plaintext cells alike, across a restart', async () => {
    const statePath = join(dir, 'state.bin');
    const schema = ['EXTERN_ID', 'EMAIL', 'PHONE', 'DATA_PROCESSING_OPTIONS', 'DATA_PROCESSING_OPTIONS_STATE'];
    const data = Array.from({ length: 500 }, (_, i) => [
      i % 3 ? `x${i}` : '',
      h(`e${i}`),
      i % 2 ? h(`p${i % 9}`) : '',
      i % 5 ? [] : ['LDU'],
      i % 5 ? 0 : 1000,
    ]);
    const first = await withSandbox({ statePath });
    const aud = await createAudience(first);
    const res = await graph(first, 'POST', `${aud}/users`, { body: { payload: { schema, data } } });
    expect(res.body.num_invalid_entries).toBe(0);
    const before = await members(first, aud);
    await first.close();

    const second = await withSandbox({ statePath });
    try {
      const after = await members(second, aud);
      expect(after).toEqual(before);
      expect(after.total).toBe(500);
      expect(after.members[0]).toEqual(['', h('e0'), '', ['LDU'], 1000]);
    } finally {
      await second.close();
    }
  });
});
