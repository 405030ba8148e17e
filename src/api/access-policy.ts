import { Role } from './api-keys.js';

/**
 * Who may call what, in one place to review. Reads are for viewers; the writes below are an operator's (what is
 * exported, when, and running it); every other write — destinations, Facebook connections and tokens, consent,
 * deletion, erasure — and any route not listed here is an admin's, so a new route starts closed.
 */
const OPERATOR_WRITES = new Set([
  'PUT /destinations/:id/export-config',
  'POST /destinations/:id/export-config/preview',
  'POST /destinations/:id/exports',
  'POST /exports/:runId/cancel',
  'PUT /destinations/:id/schedule',
  'DELETE /destinations/:id/schedule',
  'POST /destinations/:id/schedule/pause',
  'POST /destinations/:id/schedule/resume',
  'POST /destinations/:id/schedule/trigger',
  'POST /refresh',
]);

/** Reads that act: starting a Facebook login hands out a dialog that connects the destination. */
const ADMIN_READS = new Set(['GET /destinations/:id/facebook/connect']);

/** The role a route needs; `url` is the route's pattern (`/destinations/:id`), not the request's path. */
export function requiredRole(method: string, url: string): Role {
  const route = `${method} ${url}`;
  if (ADMIN_READS.has(route)) return Role.admin;
  if (method === 'GET' || method === 'HEAD') return Role.viewer;
  return OPERATOR_WRITES.has(route) ? Role.operator : Role.admin;
}
