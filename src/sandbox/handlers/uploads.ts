import { createHash, randomInt } from 'node:crypto';
import { GraphError, graphErrors } from '../errors.js';
import { ScannedRows } from '../json-rows.js';
import { Membership } from '../membership.js';
import { CellKind, checkPayload, type CheckedPayload, type UploadSchema } from '../rules/payload.js';
import {
  BatchAction,
  decideBatch,
  parseSession,
  SessionState,
  UploadKind,
  type SessionParams,
  type UploadSession,
} from '../rules/session.js';
import type { GraphRequest, Handler } from '../request.js';
import { type Audience, requireWrite, type SandboxWorld } from '../world.js';

function sameSchema(a: UploadSchema, b: UploadSchema): boolean {
  return a.keys.length === b.keys.length && a.keys.every((k, i) => k === b.keys[i]);
}

function newMembership(world: SandboxWorld, schema: UploadSchema): Membership {
  return new Membership(
    schema.keys.length,
    world.interner,
    schema.kinds.map((k) => k === CellKind.Hashed),
  );
}

/** Reads and checks `payload`, and logs its size and a hash of its data (never the rows). */
function readPayload(req: GraphRequest, world: SandboxWorld): CheckedPayload {
  const raw = req.params.payload;
  const data = typeof raw === 'object' && raw !== null ? (raw as { data?: unknown }).data : undefined;
  if (data instanceof ScannedRows) {
    // The bytes as sent are JSON.stringify(data) (ScannedRows takes no other form): hash them as they are.
    req.log.dataHash = createHash('sha256').update(data.json).digest('hex');
    req.log.rows = data.count;
  } else if (data !== undefined) {
    req.log.dataHash = createHash('sha256').update(JSON.stringify(data)).digest('hex');
    if (Array.isArray(data)) req.log.rows = data.length;
  }
  const checked = checkPayload(raw, world.config.maxRowsPerRequest);
  req.log.numInvalid = checked.invalid;
  return checked;
}

function readSession(req: GraphRequest): SessionParams | undefined {
  if (req.params.session === undefined) return undefined;
  const s = parseSession(req.params.session);
  req.log.sessionId = s.id;
  req.log.batchSeq = s.batchSeq;
  req.log.lastBatchFlag = s.last;
  return s;
}

/** Checks every upload shares: write permission, accepted terms, not flagged, schema fixed at first upload. */
function checkUploadable(req: GraphRequest, world: SandboxWorld, a: Audience, payload: CheckedPayload): void {
  const acct = world.accounts.get(a.accountId)!;
  if (!acct.tosAccepted) {
    throw new GraphError(
      200,
      '(#200) Please agree to the Custom Audience terms before uploading: https://business.facebook.com/ads/manage/customaudiences/tos/?act=' +
        acct.id,
      { subcode: 1870090 },
    );
  }
  if (a.flagged) {
    throw graphErrors.invalidParameter(
      'This audience was flagged for a possible integrity policy violation; uploads are blocked until it is resolved in Audience Manager',
      1713230,
    );
  }
  if (a.isValueBased && !payload.schema.keys.includes('LOOKALIKE_VALUE')) {
    throw graphErrors.invalidParameter('Value-Based Custom Audience requires LOOKALIKE_VALUE attribute');
  }
  if (a.schema && !sameSchema(a.schema, payload.schema)) {
    const detail =
      a.schema.subtype === payload.schema.subtype
        ? `This audience was created with the schema [${a.schema.keys.join(',')}]; every upload must use exactly that schema`
        : `This audience was created from data source FILE_IMPORTED.${a.schema.subtype}, which does not support the data source FILE_IMPORTED.${payload.schema.subtype}`;
    throw new GraphError(2650, `(#2650) Failed to update the custom audience: ${detail}`);
  }
}

function uploadReply(a: Audience, sessionId: string, received: number, invalid: number) {
  return {
    body: {
      audience_id: a.id,
      session_id: sessionId,
      num_received: received,
      num_invalid_entries: invalid,
      invalid_entry_samples: {},
    },
  };
}

function startSession(world: SandboxWorld, a: Audience, params: SessionParams, kind: UploadKind): UploadSession {
  const s: UploadSession = {
    id: params.id,
    audienceId: a.id,
    kind,
    startedAtMs: world.now(),
    state: SessionState.Open,
    numReceived: 0,
    numInvalid: 0,
    restarts: 0,
    ...(params.estimatedTotal !== undefined ? { estimatedTotal: params.estimatedTotal } : {}),
  };
  world.accountSessions(a.accountId).set(s.id, s);
  return s;
}

/** POST /<aud>/users (add) and DELETE /<aud>/users (remove). */
function usersHandler(kind: typeof UploadKind.Add | typeof UploadKind.Remove): Handler {
  return (req, world) => {
    const a = uploadTarget(req, world);
    const params = readSession(req);
    const payload = readPayload(req, world);
    checkUploadable(req, world, a, payload);
    if (a.replace) {
      throw graphErrors.replace(
        1870145,
        'a replace is in progress on this audience; wait until operation_status is 200',
      );
    }
    let session: UploadSession | undefined;
    if (params) {
      const existing = world.accountSessions(a.accountId).get(params.id);
      const action = decideBatch(existing, params, kind, a.id);
      session = action === BatchAction.Start ? startSession(world, a, params, kind) : existing!;
    }
    if (!a.schema || !a.members) {
      a.schema = payload.schema;
      a.members = newMembership(world, payload.schema);
    }
    if (kind === UploadKind.Add) a.members.addRows(payload.rows);
    else a.members.removeRows(payload.rows);
    if (payload.rows.count > 0) a.timeContentUpdated = Math.floor(world.now() / 1000);
    if (!session) return uploadReply(a, String(randomInt(1, 2 ** 47)), payload.received, payload.invalid);
    session.numReceived += payload.received;
    session.numInvalid += payload.invalid;
    if (params!.last) {
      session.state = SessionState.Finished;
      session.endedAtMs = world.now();
    }
    return uploadReply(a, session.id, session.numReceived, payload.invalid);
  };
}

function uploadTarget(req: GraphRequest, world: SandboxWorld): Audience {
  const t = req.authenticate();
  const a = world.audience(req.segments[0]!, t, req.method);
  req.log.accountId = a.accountId;
  req.log.audienceId = a.id;
  req.meterAccount(a.accountId);
  requireWrite(t);
  return a;
}

export const addUsers = usersHandler(UploadKind.Add);
export const removeUsers = usersHandler(UploadKind.Remove);

/** POST /<aud>/usersreplace: batch 1 starts (or restarts) the replace; last_batch_flag swaps the members. */
export const replaceUsers: Handler = (req, world) => {
  const a = uploadTarget(req, world);
  const params = readSession(req);
  const payload = readPayload(req, world);
  if (!params) throw graphErrors.invalidParameter('The parameter session is required for usersreplace');
  checkUploadable(req, world, a, payload);
  if (a.replace && a.replace.session.id !== params.id) {
    throw graphErrors.replace(
      1870145,
      'another replace is in progress on this audience; wait until operation_status is 200',
    );
  }
  const existing = world.accountSessions(a.accountId).get(params.id);
  const action = decideBatch(existing, params, UploadKind.Replace, a.id);
  if (!a.schema) a.schema = payload.schema;
  let session: UploadSession;
  if (action === BatchAction.Start) {
    session = startSession(world, a, params, UploadKind.Replace);
    a.replace = { session, staged: newMembership(world, a.schema) };
  } else {
    session = existing!;
    if (action === BatchAction.Restart) {
      // Meta: sending batch 1 again restarts the replace; what the earlier batches sent is dropped.
      session.restarts++;
      session.numReceived = 0;
      session.numInvalid = 0;
      a.replace = { session, staged: newMembership(world, a.schema) };
      req.log.restarted = true;
    }
  }
  const staged = a.replace!.staged;
  staged.addRows(payload.rows);
  session.numReceived += payload.received;
  session.numInvalid += payload.invalid;
  a.lastReplaceFailed = false;
  if (params.last) {
    session.state = SessionState.Finished;
    session.endedAtMs = world.now();
    a.members = staged;
    a.replace = undefined;
    a.timeContentUpdated = Math.floor(world.now() / 1000);
  }
  return uploadReply(a, session.id, session.numReceived, payload.invalid);
};

/** DELETE /act_<id>/usersofanyaudience: removes the rows from every audience of the account with this schema. */
export const removeFromAllAudiences: Handler = (req, world) => {
  const t = req.authenticate();
  const acct = world.account(req.segments[0]!, t, 'delete');
  req.log.accountId = acct.id;
  req.meterAccount(acct.id);
  requireWrite(t);
  readSession(req);
  const payload = readPayload(req, world);
  for (const a of world.audiences.values()) {
    if (a.accountId !== acct.id || !a.schema || !sameSchema(a.schema, payload.schema)) continue;
    world.settle(a);
    a.members?.removeRows(payload.rows);
    a.replace?.staged.removeRows(payload.rows);
  }
  return {
    body: {
      account_id: acct.id,
      session_id: String(req.log.sessionId ?? randomInt(1, 2 ** 47)),
      num_received: payload.received,
      num_invalid_entries: payload.invalid,
      invalid_entry_samples: {},
    },
  };
};
