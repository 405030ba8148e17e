import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Membership } from './membership.js';
import { CellKind } from './rules/payload.js';
import type { UploadSession } from './rules/session.js';
import type { SandboxToken } from './config.js';
import type { Audience, SandboxWorld } from './world.js';

/**
 * Saves and loads the sandbox's world (audiences with schema and members, upload sessions, tokens issued by
 * OAuth) so a local run survives a restart: the demo's second run refreshes the audience of its first.
 *
 * File: "AESB1\n", a uint32 length and that much JSON (everything but members), then per audience with
 * members a cell dictionary and the rows as uint32 dictionary indexes (0 = empty cell). Hashed cells are
 * stored as their 32 raw bytes, so 100,000 members of 11 keys take about 15 MB. An open replace is not saved
 * (a restart ends it, as a timed-out session would).
 */
const MAGIC = Buffer.from('AESB1\n');

interface SavedAudience extends Omit<Audience, 'members' | 'replace'> {
  memberCount: number;
}

interface SavedWorld {
  audiences: SavedAudience[];
  sessions: [string, UploadSession[]][];
  tokens: SandboxToken[];
}

const hashedColumnsOf = (a: Pick<Audience, 'schema'>): boolean[] =>
  a.schema?.kinds.map((k) => k === CellKind.Hashed) ?? [];

/** Appends buffers and numbers; concatenated once at the end. */
class Writer {
  readonly parts: Buffer[] = [];
  u32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n);
    this.parts.push(b);
  }
  bytes(b: Buffer): void {
    this.parts.push(b);
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    const n = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return n;
  }
  bytes(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new Error('sandbox state file is truncated');
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

function writeMembers(w: Writer, a: Audience): void {
  const members = a.members!;
  const hashed = hashedColumnsOf(a);
  const dict = new Map<string, number>();
  const entries: Buffer[] = [];
  const rows = new Uint32Array(members.size * members.width);
  let r = 0;
  for (const row of members.rows()) {
    for (let c = 0; c < members.width; c++) {
      const cell = row[c] ?? '';
      if (cell === '') {
        rows[r++] = 0;
        continue;
      }
      let id = dict.get(cell);
      if (id === undefined) {
        dict.set(cell, (id = dict.size + 1));
        const body = hashed[c] ? Buffer.from(cell, 'hex') : Buffer.from(cell, 'utf8');
        const head = Buffer.allocUnsafe(5);
        head.writeUInt8(hashed[c] ? 1 : 0, 0);
        head.writeUInt32LE(body.length, 1);
        entries.push(head, body);
      }
      rows[r++] = id;
    }
  }
  w.u32(dict.size);
  for (const e of entries) w.bytes(e);
  w.u32(members.size);
  w.bytes(Buffer.from(rows.buffer, rows.byteOffset, r * 4));
}

function readMembers(reader: Reader, world: SandboxWorld, a: Audience): Membership {
  const width = a.schema!.keys.length;
  const members = new Membership(width, world.interner, hashedColumnsOf(a));
  const dictSize = reader.u32();
  const dict: string[] = [''];
  for (let i = 0; i < dictSize; i++) {
    const head = reader.bytes(5);
    const body = reader.bytes(head.readUInt32LE(1));
    dict.push(head.readUInt8(0) === 1 ? body.toString('hex') : body.toString('utf8'));
  }
  const count = reader.u32();
  const ids = reader.bytes(count * width * 4);
  const row = new Array<string>(width);
  for (let r = 0; r < count; r++) {
    for (let c = 0; c < width; c++) row[c] = dict[ids.readUInt32LE((r * width + c) * 4)] ?? '';
    members.add(row);
  }
  return members;
}

/** Writes the world to `path` (through a temporary file, so a crash mid-write keeps the previous state). */
export async function saveSandboxState(world: SandboxWorld, path: string): Promise<void> {
  const configured = new Set(world.config.tokens.map((t) => t.token));
  const audiences = [...world.audiences.values()];
  const saved: SavedWorld = {
    audiences: audiences.map(({ members, replace: _replace, ...rest }) => ({
      ...rest,
      memberCount: members?.size ?? 0,
    })),
    sessions: [...world.sessions.entries()].map(([account, m]) => [account, [...m.values()]]),
    tokens: [...world.tokens.values()].filter((t) => !configured.has(t.token)),
  };
  const w = new Writer();
  w.bytes(MAGIC);
  const json = Buffer.from(JSON.stringify(saved), 'utf8');
  w.u32(json.length);
  w.bytes(json);
  for (const a of audiences) if (a.members && a.schema && a.members.size > 0) writeMembers(w, a);
  // A folder made here is private; one given (DATA_DIR is made private by `start`) is left as it is.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // The audiences' members (hashes, and MADIDs or external ids in clear): the owner's alone, like DATA_DIR.
  const tmp = `${path}.tmp`;
  await writeFile(tmp, Buffer.concat(w.parts), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Loads a world saved by `saveSandboxState`; a missing file leaves the world as configured. */
export async function loadSandboxState(world: SandboxWorld, path: string): Promise<void> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error(`${path} is not a sandbox state file: delete it to start the sandbox empty`);
  }
  const reader = new Reader(buf);
  reader.bytes(MAGIC.length);
  const saved = JSON.parse(reader.bytes(reader.u32()).toString('utf8')) as SavedWorld;
  for (const t of saved.tokens) world.tokens.set(t.token, t);
  for (const [account, sessions] of saved.sessions) {
    const m = world.accountSessions(account);
    for (const s of sessions) m.set(s.id, s);
  }
  for (const { memberCount, ...rest } of saved.audiences) {
    const audience: Audience = { ...rest };
    if (audience.schema) {
      audience.members =
        memberCount > 0
          ? readMembers(reader, world, audience)
          : new Membership(audience.schema.keys.length, world.interner, hashedColumnsOf(audience));
    }
    world.audiences.set(audience.id, audience);
  }
}
