import { zeroProgress, type AudienceHealth, type ExportProgress } from '../workflows/contracts.js';

/** Formatting of export progress and run reports: pure, so tests can check it without a terminal. */

const fmt = new Intl.NumberFormat('en-US');
export const n = (value: number): string => fmt.format(Math.round(value));

export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Rows per second since rows started moving (the sample before the first rows is the baseline). */
export class RateMeter {
  private first?: { atMs: number; rows: number };
  private last?: { atMs: number; rows: number };

  sample(atMs: number, rows: number): void {
    if (!this.first && rows > 0) this.first = this.last ?? { atMs, rows };
    this.last = { atMs, rows };
  }

  perSecond(): number {
    if (!this.first || !this.last) return 0;
    const seconds = (this.last.atMs - this.first.atMs) / 1000;
    return seconds > 0 ? (this.last.rows - this.first.rows) / seconds : 0;
  }
}

export function bar(done: number, total: number, width = 24): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(share * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

/** One line: phase, pages, rows sent/removed, rows per second, waits. */
export function progressLine(p: ExportProgress, rowsPerSecond: number, elapsedMs: number): string {
  const parts = [
    p.phase.padEnd(10),
    bar(p.pagesDone, p.pagesTotal),
    `pages ${p.pagesDone}/${p.pagesTotal}`,
    `sent ${n(p.rowsSent)}`,
  ];
  if (p.rowsRemoved > 0) parts.push(`removed ${n(p.rowsRemoved)}`);
  if (p.rowsDropped > 0) parts.push(`dropped ${n(p.rowsDropped)}`);
  parts.push(`${n(rowsPerSecond)} rows/s`);
  if (p.waitingUntil) parts.push(`waiting until ${p.waitingUntil.slice(11, 19)} (${p.waitReason ?? 'rate limit'})`);
  else if (p.waitedMs > 0) parts.push(`waited ${duration(p.waitedMs)}`);
  parts.push(duration(elapsedMs));
  return parts.join('  ');
}

export interface RunReport {
  status: string;
  segments: readonly string[];
  mode?: string;
  /** Why the run used its mode, in words (e.g. a mirror run that replaced the audience after a mapping change). */
  modeReason?: string;
  progress: ExportProgress;
  health?: AudienceHealth;
  durationMs: number;
  runId?: string;
  uiUrl?: string;
  error?: string;
  /** Rows on pages posted without a known outcome (the run stopped while they were in flight). */
  possiblyApplied?: { sent: number; removed: number };
}

/** The report printed after a run; one fact per line, labels padded so figures line up. */
export function runReportLines(r: RunReport): string[] {
  const p = r.progress;
  const dropped = Object.entries(p.droppedByReason)
    .filter(([, v]) => v > 0)
    .map(([reason, v]) => `${reason} ${n(v)}`)
    .join(', ');
  const h = r.health;
  const bounds =
    h?.lowerBound !== undefined || h?.upperBound !== undefined
      ? `${h.lowerBound !== undefined ? n(h.lowerBound) : '?'} – ${h.upperBound !== undefined ? n(h.upperBound) : '?'} (Meta's estimate; applied within 24 h)`
      : 'not reported yet';
  const row = (label: string, value: string) => `  ${label.padEnd(15)} ${value}`;
  return [
    `Export ${r.status}${(r.mode ?? p.mode) ? ` (${p.mode ?? r.mode} mode)` : ''}`,
    ...(r.modeReason ? [row('mode', r.modeReason)] : []),
    row('segment size', `${n(p.rowsTotal)} profiles in ${r.segments.map((s) => `'${s}'`).join(', ')}`),
    row('sent', `${n(p.rowsSent)} rows (Meta received ${n(p.received)}, invalid ${n(p.invalid)})`),
    row('removed', `${n(p.rowsRemoved)} rows`),
    ...possiblyAppliedLines(r.possiblyApplied),
    row('dropped', `${n(p.rowsDropped)}${dropped ? ` (${dropped})` : ''}`),
    row('audience size', bounds),
    row('time taken', `${duration(r.durationMs)}${p.waitedMs > 0 ? `, of which waiting ${duration(p.waitedMs)}` : ''}`),
    ...(r.runId ? [row('run', r.runId)] : []),
    ...(r.uiUrl ? [row('Temporal UI', r.uiUrl)] : []),
    ...(r.error ? [row('error', r.error)] : []),
  ];
}

/** Pages in flight when a run stopped may have reached the audience: say so rather than count them as never sent. */
function possiblyAppliedLines(p: RunReport['possiblyApplied']): string[] {
  if (!p || p.sent + p.removed === 0) return [];
  const parts = [p.sent > 0 ? `${n(p.sent)} added` : '', p.removed > 0 ? `${n(p.removed)} removed` : ''];
  return [
    `  ${'possibly applied'.padEnd(15)} ${n(p.sent + p.removed)} rows (${parts.filter(Boolean).join(', ')}): ` +
      'in flight when the run stopped, so Meta may have applied them',
  ];
}

/** Progress of a run that reported none (failed before its first query answered). */
export function emptyProgress(): ExportProgress {
  return zeroProgress('done');
}
