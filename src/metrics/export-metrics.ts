import { Counter, Gauge, Registry } from 'prom-client';
import type { Queryable } from '../store/db.js';

/** Upper bounds (seconds) of the page-latency histogram: a 10,000-row call takes from ~0.5 s to a minute. */
export const PAGE_DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120] as const;

const PREFIX = 'audience_export_';

/**
 * A Prometheus registry whose every figure is read from `export_runs` and `export_run_pages` at scrape time:
 * exports run in worker processes and the API is another process, so the tables are the one shared truth. The
 * counters only grow while runs are kept (deleting a destination's runs lowers them, which Prometheus reads as
 * a counter reset).
 */
export function createExportMetricsRegistry(db: Queryable): Registry {
  const registry = new Registry();

  const started = new Counter({
    name: `${PREFIX}runs_started_total`,
    help: 'Export runs recorded, by mode and trigger',
    labelNames: ['mode', 'trigger'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.query<{ mode: string; trigger: string; n: string }>(
        'SELECT mode, trigger, count(*) AS n FROM export_runs GROUP BY mode, trigger',
      );
      started.reset();
      for (const r of rows) started.inc({ mode: r.mode, trigger: r.trigger }, Number(r.n));
    },
  });

  const finished = new Counter({
    name: `${PREFIX}runs_finished_total`,
    help: 'Export runs finished, by mode, trigger and status (completed, failed, cancelled, partial)',
    labelNames: ['mode', 'trigger', 'status'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.query<{ mode: string; trigger: string; status: string; n: string }>(
        `SELECT mode, trigger, status, count(*) AS n FROM export_runs WHERE status <> 'running'
         GROUP BY mode, trigger, status`,
      );
      finished.reset();
      for (const r of rows) finished.inc({ mode: r.mode, trigger: r.trigger, status: r.status }, Number(r.n));
    },
  });

  const running = new Gauge({
    name: `${PREFIX}runs_running`,
    help: 'Export runs recorded as running, by mode',
    labelNames: ['mode'] as const,
    registers: [registry],
    async collect() {
      const rows = await db.query<{ mode: string; n: string }>(
        "SELECT mode, count(*) AS n FROM export_runs WHERE status = 'running' GROUP BY mode",
      );
      running.reset();
      for (const r of rows) running.set({ mode: r.mode }, Number(r.n));
    },
  });

  const rows = new Counter({
    name: `${PREFIX}rows_total`,
    help: 'Rows sent to or removed from audiences, by mode and outcome (sent, removed)',
    labelNames: ['mode', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const byMode = await db.query<{ mode: string; sent: string; removed: string }>(
        'SELECT mode, sum(sent) AS sent, sum(removed) AS removed FROM export_runs GROUP BY mode',
      );
      rows.reset();
      for (const r of byMode) {
        rows.inc({ mode: r.mode, outcome: 'sent' }, Number(r.sent));
        rows.inc({ mode: r.mode, outcome: 'removed' }, Number(r.removed));
      }
    },
  });

  const dropped = new Counter({
    name: `${PREFIX}rows_dropped_total`,
    help: 'Rows not sent, by reason (e.g. key_identifier_missing, consent_withdrawn)',
    labelNames: ['reason'] as const,
    registers: [registry],
    async collect() {
      const rs = await db.query<{ reason: string; n: string }>(
        `SELECT e.key AS reason, sum(e.value::text::bigint) AS n FROM export_runs r, jsonb_each(r.dropped) e
         GROUP BY e.key`,
      );
      dropped.reset();
      for (const r of rs) dropped.inc({ reason: r.reason }, Number(r.n));
    },
  });

  const throttleWaits = new Counter({
    name: `${PREFIX}throttle_waits_total`,
    help: 'Times a run waited out a Facebook rate-limit block',
    registers: [registry],
    async collect() {
      const [r] = await db.query<{ n: string }>('SELECT COALESCE(sum(throttle_waits), 0) AS n FROM export_runs');
      throttleWaits.reset();
      throttleWaits.inc(Number(r?.n ?? 0));
    },
  });

  const throttleSeconds = new Counter({
    name: `${PREFIX}throttle_wait_seconds_total`,
    help: 'Time runs spent waiting out Facebook rate-limit blocks',
    registers: [registry],
    async collect() {
      const [r] = await db.query<{ ms: string }>('SELECT COALESCE(sum(waited_ms), 0) AS ms FROM export_runs');
      throttleSeconds.reset();
      throttleSeconds.inc(Number(r?.ms ?? 0) / 1000);
    },
  });

  registry.registerMetric(pageDurationHistogram(db) as unknown as Counter);
  return registry;
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * Page upload latency as a Prometheus histogram computed in SQL (bucket counts with `count(*) FILTER`): prom-client's
 * Histogram only observes values one at a time, so this is a minimal metric object of our own.
 */
function pageDurationHistogram(db: Queryable) {
  const name = `${PREFIX}page_duration_seconds`;
  const help = 'Upload time of one page (one call to Facebook), pages with a recorded duration';
  const bucketSql = PAGE_DURATION_BUCKETS.map(
    (b, i) => `count(*) FILTER (WHERE duration_ms <= ${b * 1000}) AS b${i}`,
  ).join(', ');
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const [r] = await db.query<Record<string, string | null>>(
        `SELECT ${bucketSql}, count(*) AS n, COALESCE(sum(duration_ms), 0) AS sum_ms
         FROM export_run_pages WHERE duration_ms IS NOT NULL AND page >= 0`,
      );
      const count = Number(r?.n ?? 0);
      const values: HistogramValue[] = PAGE_DURATION_BUCKETS.map((b, i) => ({
        metricName: `${name}_bucket`,
        labels: { le: b },
        value: Number(r?.[`b${i}`] ?? 0),
      }));
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: Number(r?.sum_ms ?? 0) / 1000 });
      values.push({ metricName: `${name}_count`, labels: {}, value: count });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
