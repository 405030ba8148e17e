/**
 * The sandbox in a process of its own, so its CPU is measured apart from the worker's. Prints one JSON line
 * (url, fixtures) on stdout, then answers the benchmark over IPC: a membership check that streams the
 * audience once (O(members)), where paging `/__sandbox/audiences/{id}/members` by offset is O(members^2).
 */
import { parseLatency } from '../../src/sandbox/command.js';
import { CellKind } from '../../src/sandbox/rules/payload.js';
import { startSandbox } from '../../src/sandbox/server.js';

export interface CheckRequest {
  type: 'check';
  id: number;
  audienceId: string;
  /** Rows as JSON text of their cells, as the members route shows them. */
  present: string[];
}

export interface CheckResponse {
  type: 'check';
  id: number;
  total: number;
  /** Indexes into `present` of the rows the audience holds. */
  found: number[];
}

const latency = process.argv[2];
const sandbox = await startSandbox({ port: 0, faults: { latencyMs: latency ? parseLatency(latency) : null } });
process.stdout.write(`${JSON.stringify({ url: sandbox.url, fixtures: sandbox.fixtures })}\n`);

process.on('message', (message: CheckRequest) => {
  if (message.type !== 'check') return;
  const world = sandbox.state;
  const audience = world.audiences.get(message.audienceId);
  const wanted = new Map(message.present.map((row, i) => [row, i]));
  const found: number[] = [];
  let total = 0;
  if (audience?.schema && audience.members) {
    world.settle(audience);
    const kinds = audience.schema.kinds;
    total = audience.members.size;
    for (const row of audience.members.rows(0)) {
      // The same rendering as the members route (src/sandbox/admin.ts membersPage).
      const cells = row.map((cell, i) =>
        cell === '' || kinds[i] === CellKind.Hashed ? cell : (JSON.parse(cell) as unknown),
      );
      const at = wanted.get(JSON.stringify(cells));
      if (at !== undefined) found.push(at);
    }
  }
  const response: CheckResponse = { type: 'check', id: message.id, total, found };
  process.send?.(response);
});

const stop = () => void sandbox.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
