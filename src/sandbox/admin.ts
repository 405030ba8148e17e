import type { FastifyInstance } from 'fastify';
import { CellKind } from './rules/payload.js';
import type { SandboxFixtures } from './fixtures.js';
import type { SandboxWorld } from './world.js';

export interface MembersPage {
  schema: string[];
  total: number;
  /** Cells: hashed keys as lowercase hex, others as sent (strings, numbers, option lists), '' when empty. */
  members: unknown[][];
}

/** One page of the rows an audience holds, for tests. */
export function membersPage(world: SandboxWorld, audienceId: string, offset = 0, limit = 1000): MembersPage | null {
  const a = world.audiences.get(audienceId);
  if (!a) return null;
  world.settle(a);
  if (!a.schema || !a.members) return { schema: a.schema ? [...a.schema.keys] : [], total: 0, members: [] };
  const kinds = a.schema.kinds;
  const members: unknown[][] = [];
  for (const row of a.members.rows(offset)) {
    if (members.length >= limit) break;
    members.push(
      row.map((cell, i) => (cell === '' || kinds[i] === CellKind.Hashed ? cell : (JSON.parse(cell) as unknown))),
    );
  }
  return { schema: [...a.schema.keys], total: a.members.size, members };
}

const intQuery = (v: unknown, fallback: number) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : fallback);

/** The sandbox's own routes under /__sandbox (not Graph API): inspection and fault control. */
export function registerAdminRoutes(app: FastifyInstance, world: SandboxWorld, fixtures: SandboxFixtures): void {
  app.get('/__sandbox/fixtures', () => fixtures);
  app.get<{ Params: { id: string }; Querystring: Record<string, string> }>(
    '/__sandbox/audiences/:id/members',
    (req, reply) => {
      const page = membersPage(
        world,
        req.params.id,
        intQuery(req.query.offset, 0),
        Math.min(intQuery(req.query.limit, 1000), 10_000),
      );
      return page ?? reply.code(404).send({ error: 'no such audience' });
    },
  );
  app.get<{ Querystring: Record<string, string> }>('/__sandbox/requests', (req) => {
    const since = intQuery(req.query.since, 0);
    return { requests: world.log.filter((e) => e.seq > since) };
  });
  app.get('/__sandbox/faults', () => world.faults);
  app.put('/__sandbox/faults', (req, reply) => {
    try {
      world.setFaults(req.body ?? {});
      return world.faults;
    } catch (err) {
      return reply.code(400).send({ error: err instanceof Error ? err.message : String(err) });
    }
  });
}
