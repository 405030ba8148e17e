import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { buildRows, type BuiltRows } from '../domain/canonical-row.js';
import { parseBuiltRows, toThreadTask, type RowBuilderPage, type ThreadReply } from './messages.js';

export type { RowBuilderPage } from './messages.js';

export interface RowBuilderPoolOptions {
  /** Threads building rows; 0 turns the pool off (every page is built inline). @default availableParallelism() - 2, at least 0 */
  threads?: number;
  /**
   * Pages with fewer profiles are built inline: below this, posting the page to a thread and its rows back costs
   * about what the thread saves (bench/normalize.ts measures it). @default 2000
   */
  minPageSize?: number;
  /**
   * When every thread is busy, build the page on the calling thread instead of queueing it, so the main thread's
   * core works too (on 2 cores, 1 thread + the main thread). Off: pages wait for a thread. @default true
   */
  inlineWhenBusy?: boolean;
  /** Heap limits per thread, so a runaway page ends its thread (and fails its page) instead of the process. */
  resourceLimits?: ResourceLimits;
}

export const RowBuilderFailure = {
  THREAD_CRASHED: 'ROW_BUILDER_THREAD_CRASHED',
  BUILD_FAILED: 'ROW_BUILDER_BUILD_FAILED',
  POOL_CLOSED: 'ROW_BUILDER_POOL_CLOSED',
} as const;
export type RowBuilderFailure = (typeof RowBuilderFailure)[keyof typeof RowBuilderFailure];

/** A page the pool could not build. Retryable: the page is built again by the activity's retry. */
export class RowBuilderError extends Error {
  override readonly name = 'RowBuilderError';
  constructor(
    readonly code: RowBuilderFailure,
    /** The thread's exit code or error name; never profile data. */
    readonly detail: string,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  readonly id: number;
  readonly page: RowBuilderPage;
  readonly resolve: (built: BuiltRows) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  running: Pending | undefined;
}

const THREAD_SCRIPT = new URL(`./thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Builds the rows of large pages on worker threads, so normalising and hashing (the CPU-heaviest part of an export)
 * uses more than one core and leaves the main thread free for heartbeats and I/O. `build` gives exactly what
 * `buildRows` gives. Threads start on first use and are replaced when one dies; `close` ends them.
 */
export class RowBuilderPool {
  readonly threads: number;
  readonly minPageSize: number;
  readonly inlineWhenBusy: boolean;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly idle: Thread[] = [];
  private readonly busy = new Set<Thread>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: RowBuilderPoolOptions = {}) {
    this.threads = Math.max(0, Math.floor(options.threads ?? defaultThreads()));
    this.minPageSize = options.minPageSize ?? 2_000;
    this.inlineWhenBusy = options.inlineWhenBusy ?? true;
    this.resourceLimits = options.resourceLimits;
  }

  /** `buildRows(page.profiles, page.mapping, page.options)`, on a thread when the page is large enough to pay. */
  build(page: RowBuilderPage): Promise<BuiltRows> {
    const saturated = this.idle.length === 0 && this.busy.size >= this.threads;
    if (this.threads === 0 || page.profiles.length < this.minPageSize || (this.inlineWhenBusy && saturated)) {
      try {
        return Promise.resolve(buildRows(page.profiles, page.mapping, page.options));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (this.closed) {
      return Promise.reject(
        new RowBuilderError(RowBuilderFailure.POOL_CLOSED, 'closed', 'The row-builder pool is closed; retry the page.'),
      );
    }
    return new Promise<BuiltRows>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, page, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends every thread; pages in flight or queued are rejected (their activities retry elsewhere). */
  async close(): Promise<void> {
    this.closed = true;
    const failure = new RowBuilderError(RowBuilderFailure.POOL_CLOSED, 'closed', 'The row-builder pool closed.');
    for (const pending of this.queue.splice(0)) pending.reject(failure);
    const threads = [...this.idle.splice(0), ...this.busy];
    this.busy.clear();
    for (const thread of threads) thread.running?.reject(failure);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const thread = this.idle.pop() ?? (this.busy.size < this.threads ? this.spawn() : undefined);
      if (thread === undefined) return;
      const pending = this.queue.shift()!;
      let task;
      try {
        task = toThreadTask(pending.id, pending.page);
      } catch (err) {
        this.idle.push(thread);
        pending.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      try {
        thread.worker.postMessage(task);
      } catch {
        // A value a structured clone cannot carry (a function, a symbol): build this page here instead.
        this.idle.push(thread);
        this.buildInline(pending);
        continue;
      }
      thread.running = pending;
      this.busy.add(thread);
      thread.worker.ref();
    }
  }

  private buildInline(pending: Pending): void {
    try {
      pending.resolve(buildRows(pending.page.profiles, pending.page.mapping, pending.page.options));
    } catch (err) {
      pending.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private spawn(): Thread {
    const worker = startThread(this.resourceLimits);
    // Only a busy thread keeps the process alive (ref'd while it builds a page).
    worker.unref();
    const thread: Thread = { worker, running: undefined };
    worker.on('message', (reply: ThreadReply) => this.settle(thread, reply));
    worker.on('error', (err) => this.retire(thread, errorCode(err)));
    worker.on('exit', (code) => this.retire(thread, `exit ${code}`));
    return thread;
  }

  private settle(thread: Thread, reply: ThreadReply): void {
    const pending = thread.running;
    if (pending === undefined || pending.id !== reply.id) return;
    thread.running = undefined;
    this.busy.delete(thread);
    thread.worker.unref();
    if (!this.closed) this.idle.push(thread);
    if ('builtJson' in reply) pending.resolve(parseBuiltRows(reply.builtJson));
    else {
      const message = `Building a page's rows failed on a thread (${reply.failure}); the page is retried.`;
      pending.reject(new RowBuilderError(RowBuilderFailure.BUILD_FAILED, reply.failure, message));
    }
    this.dispatch();
  }

  /** A thread died (crash, out of memory, exit): its page fails so its activity retries; a new thread replaces it. */
  private retire(thread: Thread, detail: string): void {
    const wasKnown = this.busy.delete(thread) || removeFrom(this.idle, thread);
    const pending = thread.running;
    thread.running = undefined;
    if (pending !== undefined) {
      const message = `A row-builder thread died while building a page (${detail}); the page is retried.`;
      pending.reject(new RowBuilderError(RowBuilderFailure.THREAD_CRASHED, detail, message));
    }
    if (wasKnown && !this.closed) this.dispatch();
  }
}

/**
 * Two cores fewer than the machine has: the main thread and the database/network work keep theirs. Measured on
 * 2 shared cores, a pool thread made exports 14–25% slower (handing a page over costs about half of building it),
 * so small machines build inline.
 */
function defaultThreads(): number {
  return Math.max(0, availableParallelism() - 2);
}

function removeFrom(threads: Thread[], thread: Thread): boolean {
  const index = threads.indexOf(thread);
  if (index >= 0) threads.splice(index, 1);
  return index >= 0;
}

function errorCode(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? err.code : err.name;
  return typeof err;
}

/**
 * A `.ts` thread script (under tsx, which the CLI registers through its API, and under vitest) needs tsx's loader
 * registered inside the thread first: Node 20 threads inherit neither the API's hooks nor a working `--import`.
 * Compiled `.js` is started as it is.
 */
function startThread(resourceLimits: ResourceLimits | undefined): Worker {
  const limits = resourceLimits ? { resourceLimits } : {};
  if (!THREAD_SCRIPT.pathname.endsWith('.ts')) return new Worker(THREAD_SCRIPT, limits);
  // ESM tsx API: its CommonJS build resolves its own chunks wrongly from an eval'd thread.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_SCRIPT.href)}); });`;
  return new Worker(source, { eval: true, ...limits });
}
