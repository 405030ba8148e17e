import type { Db } from './db.js';

/** A count by labels, as the metrics endpoint reports it. */
export interface LabelledCount<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  readonly n: number;
}

export interface PageDurations {
  /** Pages at or under each bound (seconds), in the order the bounds were given. */
  readonly atOrUnder: readonly number[];
  readonly count: number;
  readonly sumSeconds: number;
}

export type RunMetricsRepository = ReturnType<typeof createRunMetricsRepository>;

/**
 * Figures over `export_runs` and `export_run_pages` for the Prometheus endpoint, read at scrape time: exports run in
 * worker processes and the API is another process, so the tables are the one shared truth.
 */
export function createRunMetricsRepository(db: Db) {
  const labelled = async <L extends string>(sql: string, labels: readonly L[]): Promise<LabelledCount<L>[]> => {
    const rows = await db.query<Record<L | 'n', string>>(sql);
    return rows.map((r) => ({
      labels: Object.fromEntries(labels.map((l) => [l, r[l]])) as Record<L, string>,
      n: Number(r.n),
    }));
  };
  const total = async (sql: string): Promise<number> => {
    const [r] = await db.query<{ n: string | null }>(sql);
    return Number(r?.n ?? 0);
  };
  return {
    startedByModeAndTrigger: () =>
      labelled('SELECT mode, trigger, count(*) AS n FROM export_runs GROUP BY mode, trigger', ['mode', 'trigger']),
    finishedByModeTriggerAndStatus: () =>
      labelled(
        `SELECT mode, trigger, status, count(*) AS n FROM export_runs WHERE status <> 'running'
         GROUP BY mode, trigger, status`,
        ['mode', 'trigger', 'status'],
      ),
    runningByMode: () =>
      labelled("SELECT mode, count(*) AS n FROM export_runs WHERE status = 'running' GROUP BY mode", ['mode']),
    /** Rows sent and removed, by mode. */
    async rowsByMode(): Promise<{ mode: string; sent: number; removed: number }[]> {
      const rows = await db.query<{ mode: string; sent: string; removed: string }>(
        'SELECT mode, sum(sent) AS sent, sum(removed) AS removed FROM export_runs GROUP BY mode',
      );
      return rows.map((r) => ({ mode: r.mode, sent: Number(r.sent), removed: Number(r.removed) }));
    },
    droppedByReason: () =>
      labelled(
        `SELECT e.key AS reason, sum(e.value::text::bigint) AS n FROM export_runs r, jsonb_each(r.dropped) e
         GROUP BY e.key`,
        ['reason'],
      ),
    throttleWaits: () => total('SELECT COALESCE(sum(throttle_waits), 0) AS n FROM export_runs'),
    throttleWaitedMs: () => total('SELECT COALESCE(sum(waited_ms), 0) AS n FROM export_runs'),
    /** Upload time of pages with a recorded duration, counted at or under each bound (bucket counts in SQL). */
    async pageDurations(boundsSeconds: readonly number[]): Promise<PageDurations> {
      const buckets = boundsSeconds.map((b, i) => `count(*) FILTER (WHERE duration_ms <= $${i + 1}) AS b${i}`);
      const [r] = await db.query<Record<string, string | null>>(
        `SELECT ${[...buckets, 'count(*) AS n', 'COALESCE(sum(duration_ms), 0) AS sum_ms'].join(', ')}
         FROM export_run_pages WHERE duration_ms IS NOT NULL AND page >= 0`,
        boundsSeconds.map((b) => b * 1000),
      );
      return {
        atOrUnder: boundsSeconds.map((_, i) => Number(r?.[`b${i}`] ?? 0)),
        count: Number(r?.n ?? 0),
        sumSeconds: Number(r?.sum_ms ?? 0) / 1000,
      };
    },
  };
}
