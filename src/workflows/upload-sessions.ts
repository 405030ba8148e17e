import { newSessionId } from '../domain/session-id.js';

/**
 * Assigns pages to Meta upload sessions and batch numbers. A page keeps its (session, batch) for good, so a
 * retried or resent page goes out under the same batch number. A session is rotated before Meta's 90-minute
 * window closes; a closed-by-timeout add session keeps what it received.
 */
export interface SessionSlot {
  sessionId: number;
  batchSeq: number;
}

interface Session {
  id: number;
  openedAt: number;
  nextSeq: number;
  received: number;
  lastSentPage?: number;
}

export class UploadSessions {
  private readonly sessions: Session[] = [];
  private readonly slots = new Map<number, SessionSlot>();

  constructor(private readonly rotateAfterMs: number) {}

  /**
   * Continues a session whose batch 1 has been acknowledged (a replace): later pages take batches 2, 3, ...
   * of that one session, never rotated (a replace session cannot be continued in another).
   */
  static continuing(sessionId: number, firstPage: number, openedAt: number, received: number): UploadSessions {
    const sessions = new UploadSessions(Number.POSITIVE_INFINITY);
    sessions.sessions.push({ id: sessionId, openedAt, nextSeq: 2, received, lastSentPage: firstPage });
    sessions.slots.set(firstPage, { sessionId, batchSeq: 1 });
    return sessions;
  }

  /** The page's slot, assigned on first use. `now` is workflow time. */
  assign(page: number, now: number): SessionSlot {
    const existing = this.slots.get(page);
    if (existing) return existing;
    let session = this.current();
    if (!session || now - session.openedAt >= this.rotateAfterMs) {
      session = { id: newSessionId(), openedAt: now, nextSeq: 1, received: 0 };
      this.sessions.push(session);
    }
    const slot = { sessionId: session.id, batchSeq: session.nextSeq++ };
    this.slots.set(page, slot);
    return slot;
  }

  /**
   * A new slot for a page that a session Meta had closed refused (its window passed while the page waited): in a
   * new session, or in the one a sibling page refused by the same closed session already opened.
   */
  reassign(page: number, closedSessionId: number, now: number): SessionSlot {
    let session = this.current();
    if (!session || session.id === closedSessionId) {
      session = { id: newSessionId(), openedAt: now, nextSeq: 1, received: 0 };
      this.sessions.push(session);
    }
    const slot = { sessionId: session.id, batchSeq: session.nextSeq++ };
    this.slots.set(page, slot);
    return slot;
  }

  sent(sessionId: number, page: number, received: number): void {
    const session = this.sessions.find((s) => s.id === sessionId);
    if (!session) return;
    session.received = Math.max(session.received, received);
    if (session.lastSentPage === undefined || page > session.lastSentPage) session.lastSentPage = page;
  }

  current(): Session | undefined {
    return this.sessions.at(-1);
  }

  lastSentPage(sessionId: number | undefined): number | undefined {
    return this.sessions.find((s) => s.id === sessionId)?.lastSentPage;
  }

  totalReceived(): number {
    return this.sessions.reduce((total, s) => total + s.received, 0);
  }

  ids(): number[] {
    return this.sessions.map((s) => s.id);
  }
}
