import type { SandboxToken } from './config.js';
import type { RequestLogEntry, SandboxWorld } from './world.js';

/** One Graph call as handlers see it: path after the version, merged query + body params. */
export interface GraphRequest {
  method: string;
  /** Path segments after the version, e.g. ['act_1', 'customaudiences']. */
  segments: string[];
  params: Record<string, unknown>;
  /** The token as sent (header or access_token), never logged. */
  rawToken: string | undefined;
  /** The URL of this call (without the token), for paging links. */
  selfUrl: string;
  /** Filled by handlers for the request log. */
  log: Partial<RequestLogEntry>;
  /** Called by handlers once they know which ad account a call spends budget on. */
  authenticate(): SandboxToken;
  meterAccount(accountId: string): void;
}

export interface GraphReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  redirect?: string;
}

export type Handler = (req: GraphRequest, world: SandboxWorld) => GraphReply | Promise<GraphReply>;

/** A param as a string, or undefined (objects are not strings). */
export function str(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}
