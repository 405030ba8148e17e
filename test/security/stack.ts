import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { API_KEY, auth } from '../support/api-harness.js';
import { startApiWorld, type ApiWorld, type ApiWorldOptions } from '../support/api-world.js';

export { API_KEY, auth };

/**
 * A debug-level logger whose lines land in `lines`. It has no redaction on purpose: the scan then proves the code
 * logs no secret or personal value at all, not that src/logger.ts's safety net caught it.
 */
export function capturingLogger(lines: string[], name: string): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ name, level: 'debug' }, sink);
}

/** One test file's full stack in process (test/support/api-world.ts): the security tests' name for it. */
export type SecurityStack = ApiWorld;
export const startSecurityStack = (name: string, options: ApiWorldOptions = {}): Promise<SecurityStack> =>
  startApiWorld(name, options);
