import {
  zeroProgress,
  type ExportPhase,
  type ExportPlan,
  type ExportProgress,
  type FrozenRun,
  type PageResult,
  type UploadPlan,
} from './contracts.js';
import type { DropCounts } from '../domain/export-terms.js';

/**
 * The export's progress and counters: plain state the workflow updates and the `progress` query reads.
 * Deterministic (time comes from the workflow's clock, passed in).
 */
export class ExportState {
  private progress: ExportProgress = zeroProgress('validating');
  /** Workflow time (ms) until which no page may call Meta. */
  blockedUntil = 0;
  /** Why the run was aborted (consent withdrawn, destination deleted); in-flight requests were cancelled. */
  abortReason?: string;
  /** The audience, once validation found (or created) it. */
  private audience?: { id: string; name: string };

  get aborted(): boolean {
    return this.abortReason !== undefined;
  }

  abort(reason: string): void {
    this.abortReason ??= reason;
    this.progress.cancelRequested = true;
  }

  get cancelRequested(): boolean {
    return this.progress.cancelRequested;
  }

  snapshot(): ExportProgress {
    return { ...this.progress, droppedByReason: { ...this.progress.droppedByReason } };
  }

  /** Picks up a continued run's counters. */
  restore(progress: ExportProgress, blockedUntil: number): void {
    this.progress = { ...progress, droppedByReason: { ...progress.droppedByReason }, cancelRequested: false };
    this.blockedUntil = blockedUntil;
  }

  setRunId(runId: string): void {
    this.progress.runId = runId;
  }

  setPhase(phase: ExportPhase): void {
    this.progress.phase = phase;
  }

  requestCancel(): void {
    this.progress.cancelRequested = true;
  }

  validated(plan: ExportPlan): void {
    this.audience = { id: plan.audienceId, name: plan.audienceName };
  }

  frozen(run: FrozenRun): void {
    this.progress.pagesTotal = run.pageCount;
    this.progress.rowsTotal = run.rowCount;
  }

  planned(plan: UploadPlan): void {
    this.progress.mode = plan.mode;
    this.progress.pagesTotal = plan.adds.pages + plan.removes.pages;
    addCounts(this.progress.droppedByReason, plan.dropped);
    this.progress.rowsDropped += sum(plan.dropped);
  }

  /** Records a settled page of adds (or of removes). */
  pageSettled(result: Extract<PageResult, { status: 'sent' | 'empty' }>, removing = false): void {
    const p = this.progress;
    p.pagesDone += 1;
    addCounts(p.droppedByReason, result.dropped);
    p.rowsDropped += sum(result.dropped);
    if (result.status === 'sent') {
      if (removing) p.rowsRemoved += result.sent;
      else p.rowsSent += result.sent;
      p.invalid += result.invalid;
    }
  }

  /** Meta's `num_received` is cumulative per session; the run's total is the sum of each session's latest. */
  sessionReceived(totalAcrossSessions: number): void {
    this.progress.received = totalAcrossSessions;
  }

  /** A page was throttled at `now`: extend the shared block and count the extra wait once. */
  throttled(now: number, waitMs: number, reason: string): void {
    const until = now + waitMs;
    this.progress.throttleWaits += 1;
    if (until > this.blockedUntil) {
      this.progress.waitedMs += until - Math.max(now, this.blockedUntil);
      this.blockedUntil = until;
    }
    this.progress.waitReason = reason;
    this.progress.waitingUntil = new Date(this.blockedUntil).toISOString();
  }

  waitOver(): void {
    delete this.progress.waitReason;
    delete this.progress.waitingUntil;
  }

  /** Markdown for the Temporal UI's "current details". */
  describe(): string {
    const p = this.progress;
    const lines = [
      `**Phase:** ${p.phase}${p.mode ? ` (${p.mode})` : ''}${p.cancelRequested ? ', cancelling' : ''}`,
      ...(this.audience ? [`**Audience:** ${this.audience.name} (\`${this.audience.id}\`)`] : []),
      `**Pages:** ${p.pagesDone} / ${p.pagesTotal}`,
      `**Rows:** ${p.rowsSent} sent, ${p.rowsRemoved} removed, ${p.rowsDropped} dropped; segment of ${p.rowsTotal}`,
    ];
    if (p.waitReason) lines.push(`**Waiting** until ${p.waitingUntil ?? '?'}: ${p.waitReason}`);
    if (p.waitedMs) lines.push(`**Waited in total:** ${Math.round(p.waitedMs / 1000)} s`);
    return lines.join('  \n');
  }
}

function sum(counts: DropCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function addCounts(into: DropCounts, from: DropCounts): void {
  for (const [reason, n] of Object.entries(from)) into[reason] = (into[reason] ?? 0) + n;
}
