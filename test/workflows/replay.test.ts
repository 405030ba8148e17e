import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { installQuietRuntime } from '../support/context.js';

const dir = new URL('../histories/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

/**
 * Determinism: recorded histories of every mode and control path (test/histories, made with RECORD_HISTORIES=1)
 * replay against the current workflow code. A change that would break running exports fails here; guard it with
 * `patched()`, then record the new shape too.
 */
describe('workflow replay', () => {
  it('has recorded histories of every mode and control path', () => {
    for (const kind of ['add', 'mirror', 'replace', 'replace-timeout', 'throttled', 'cancelled', 'aborted']) {
      expect(fixtures).toContain(`export-${kind}.json`);
    }
  });

  it('replays every recorded history without a determinism error', async () => {
    installQuietRuntime();
    // The worker parses the CLI's JSON export itself (historyFromJSON).
    const histories = fixtures.map((file) => ({
      workflowId: file,
      history: JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown,
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      histories,
    )) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length);
  });
});
