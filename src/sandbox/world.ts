import { CellInterner } from './cell-interner.js';
import {
  type FaultConfig,
  mergeFaults,
  type SandboxAdAccount,
  type SandboxConfig,
  type SandboxToken,
  Scope,
} from './config.js';
import { GraphError, graphErrors } from './errors.js';
import type { Membership } from './membership.js';
import type { UploadSchema } from './rules/payload.js';
import { type UploadSession, isExpired, SessionState } from './rules/session.js';
import { type AccountMeter, newMeter } from './rules/throttle.js';

export interface Audience {
  id: string;
  accountId: string;
  name: string;
  description: string;
  subtype: 'CUSTOM';
  customerFileSource: string;
  retentionDays: number;
  isValueBased: boolean;
  timeCreated: number;
  timeUpdated: number;
  timeContentUpdated: number;
  /** Fixed by the first upload. */
  schema?: UploadSchema;
  members?: Membership;
  flagged: boolean;
  /** The open replace: its session and the rows it has received so far. */
  replace?: { session: UploadSession; staged: Membership };
  lastReplaceFailed: boolean;
  calls: number;
}

export interface RequestLogEntry {
  seq: number;
  atMs: number;
  method: string;
  path: string;
  status: number;
  errorCode?: number;
  errorSubcode?: number;
  accountId?: string;
  audienceId?: string;
  sessionId?: string;
  batchSeq?: number;
  lastBatchFlag?: boolean;
  rows?: number;
  /** SHA-256 (hex) of the JSON text of `payload.data`, so tests can compare batches without the rows. */
  dataHash?: string;
  numInvalid?: number;
  /** The batch restarted its replace session (batch 1 sent again). */
  restarted?: boolean;
}

export interface OAuthCode {
  redirectUri: string;
  scopes: string[];
  userId: string;
  expiresAtMs: number;
}

const MAX_LOG = 100_000;

/** Everything the sandbox knows: the configured world plus what calls have done to it. */
export class SandboxWorld {
  readonly interner = new CellInterner();
  readonly tokens = new Map<string, SandboxToken>();
  readonly accounts = new Map<string, SandboxAdAccount>();
  readonly audiences = new Map<string, Audience>();
  /** Upload sessions per ad account (Meta: session ids are unique within the ad account). */
  readonly sessions = new Map<string, Map<string, UploadSession>>();
  readonly meters = new Map<string, AccountMeter>();
  readonly oauthCodes = new Map<string, OAuthCode>();
  readonly log: RequestLogEntry[] = [];
  private logSeq = 0;
  /** Audience ids start at a random point, as Meta's are unique across accounts: two sandboxes never clash. */
  private nextAudience = 1 + Math.floor(Math.random() * 1e12);
  private nextToken = 1;

  constructor(
    readonly config: SandboxConfig,
    public faults: FaultConfig,
    readonly now: () => number = Date.now,
  ) {
    for (const t of config.tokens) this.tokens.set(t.token, t);
    for (const a of config.adAccounts) this.accounts.set(a.id, a);
  }

  /** Changes the named fault settings; a new throttle starts every ad account on a fresh window. */
  setFaults(patch: unknown): void {
    this.faults = mergeFaults(this.faults, patch);
    if (typeof patch === 'object' && patch !== null && 'throttle' in patch) this.meters.clear();
  }

  record(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.log.push({ seq: ++this.logSeq, ...entry });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  newAudienceId(): string {
    return `2385${String(this.nextAudience++).padStart(13, '0')}`;
  }

  issueToken(userId: string, scopes: string[], lifetimeS: number): SandboxToken {
    const nowS = Math.floor(this.now() / 1000);
    const token: SandboxToken = {
      token: `EAAsandboxISSUED${String(this.nextToken++).padStart(6, '0')}${Math.random().toString(36).slice(2, 12)}`,
      role: 'other',
      userId,
      type: 'USER',
      scopes,
      declined: [],
      expiresAt: nowS + lifetimeS,
      issuedAt: nowS,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** Expiry in epoch ms (Infinity = never), including an injected expiry. */
  tokenExpiryMs(t: SandboxToken): number {
    const own = t.expiresAt === 0 ? Infinity : t.expiresAt * 1000;
    return Math.min(own, this.faults.tokenExpiry[t.token] ?? Infinity);
  }

  /** A valid, unexpired token (190/467 unknown, 190/463 expired). */
  validToken(token: string | undefined): SandboxToken {
    if (!token) {
      throw new GraphError(104, 'An access token is required to request this resource.');
    }
    const t = this.tokens.get(token);
    if (!t) throw new GraphError(190, 'Invalid OAuth access token - Cannot parse access token', { subcode: 467 });
    const expiry = this.tokenExpiryMs(t);
    if (this.now() >= expiry) {
      throw new GraphError(
        190,
        `Error validating access token: Session has expired on ${new Date(expiry).toUTCString()}. The current time is ${new Date(this.now()).toUTCString()}.`,
        { subcode: 463 },
      );
    }
    return t;
  }

  /** The ad account `act_<digits>` if this token's user is assigned to it (else 100/33, as Graph hides it). */
  account(nodeId: string, token: SandboxToken, method: string): SandboxAdAccount {
    const digits = nodeId.replace(/^act_/, '');
    const a = this.accounts.get(digits);
    if (!a || !a.userIds.includes(token.userId)) throw graphErrors.unsupported(method, nodeId);
    return a;
  }

  /** An audience reachable by this token, after applying injected delete/flag faults. */
  audience(id: string, token: SandboxToken, method: string): Audience {
    const a = this.audiences.get(id);
    if (!a) throw graphErrors.unsupported(method, id);
    a.calls++;
    this.applyAudienceFaults(a);
    if (!this.audiences.has(id)) throw graphErrors.unsupported(method, id);
    this.account(`act_${a.accountId}`, token, method);
    this.settle(a);
    return a;
  }

  private applyAudienceFaults(a: Audience): void {
    for (const f of this.faults.audienceFaults) {
      if (f.audienceId !== a.id) continue;
      const due = (f.atMs !== undefined && this.now() >= f.atMs) || (f.onCall !== undefined && a.calls >= f.onCall);
      if (!due) continue;
      if (f.kind === 'deleted') this.deleteAudience(a.id);
      else a.flagged = true;
    }
  }

  /** Closes sessions whose window passed; a timed-out replace leaves the audience with what arrived (1870158). */
  settle(a: Audience): void {
    const window = this.config.sessionWindowMs;
    if (a.replace && isExpired(a.replace.session, this.now(), window)) {
      a.replace.session.state = SessionState.TimedOut;
      a.replace.session.endedAtMs = a.replace.session.startedAtMs + window;
      a.members = a.replace.staged;
      a.timeContentUpdated = Math.floor(this.now() / 1000);
      a.replace = undefined;
    }
    for (const s of this.sessions.get(a.accountId)?.values() ?? []) {
      if (s.audienceId === a.id && isExpired(s, this.now(), window)) {
        s.state = SessionState.TimedOut;
        s.endedAtMs = s.startedAtMs + window;
      }
    }
  }

  deleteAudience(id: string): void {
    this.audiences.delete(id);
  }

  accountSessions(accountId: string): Map<string, UploadSession> {
    let m = this.sessions.get(accountId);
    if (!m) this.sessions.set(accountId, (m = new Map<string, UploadSession>()));
    return m;
  }

  meter(accountId: string): AccountMeter {
    let m = this.meters.get(accountId);
    if (!m) this.meters.set(accountId, (m = newMeter(this.now())));
    return m;
  }

  activeAudiences(accountId: string): number {
    let n = 0;
    for (const a of this.audiences.values()) if (a.accountId === accountId) n++;
    return n;
  }
}

export function hasScope(t: SandboxToken, scope: string): boolean {
  return t.scopes.includes(scope);
}

/** Writes need ads_management (294); reads need ads_read or ads_management (200). */
export function requireWrite(t: SandboxToken): void {
  if (!hasScope(t, Scope.AdsManagement)) throw graphErrors.missingAdsManagement();
}

export function requireRead(t: SandboxToken): void {
  if (!hasScope(t, Scope.AdsManagement) && !hasScope(t, Scope.AdsRead)) throw graphErrors.missingAdsRead();
}
