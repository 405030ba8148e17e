import type { ExportProgress } from '../workflows/contracts.js';
import { progressLine, RateMeter } from './progress-format.js';

export interface ProgressBarOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Plain lines (not a redrawn bar) at most this often when the stream is not a terminal. @default 5000 */
  plainEveryMs?: number;
  now?: () => number;
}

/**
 * Draws export progress on stderr: one redrawn line on a terminal, plain lines otherwise (on each phase
 * change and every few seconds), so logs and CI output stay readable.
 */
export class ProgressBar {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private readonly rate = new RateMeter();
  private lastPlainAt = 0;
  private lastPhase?: string;
  private drawn = false;

  constructor(private readonly options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  update(p: ExportProgress): void {
    const at = this.now();
    this.rate.sample(at, p.rowsSent + p.rowsRemoved);
    const line = progressLine(p, this.rate.perSecond(), at - this.started);
    if (this.tty) {
      const width = (this.stream as { columns?: number }).columns ?? 120;
      this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
      this.drawn = true;
      return;
    }
    if (p.phase !== this.lastPhase || at - this.lastPlainAt >= (this.options.plainEveryMs ?? 5000)) {
      this.stream.write(`${line}\n`);
      this.lastPlainAt = at;
      this.lastPhase = p.phase;
    }
  }

  /** Ends the bar's line so what follows starts on its own. */
  finish(p?: ExportProgress): void {
    if (p) {
      this.lastPhase = undefined;
      this.update(p);
    }
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
