import { Counter, Gauge, Registry } from 'prom-client';
import type { RunMetricsRepository } from '../store/index.js';

/** Upper bounds (seconds) of the page-latency histogram: a 10,000-row call takes from ~0.5 s to a minute. */
export const PAGE_DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120] as const;

const PREFIX = 'audience_export_';

/**
 * A Prometheus registry whose every figure is read from the run tables at scrape time (store/run-metrics.ts). The
 * counters only grow while runs are kept (deleting a destination's runs lowers them, which Prometheus reads as
 * a counter reset).
 */
export function createExportMetricsRegistry(metrics: RunMetricsRepository): Registry {
  const registry = new Registry();

  const started = new Counter({
    name: `${PREFIX}runs_started_total`,
    help: 'Export runs recorded, by mode and trigger',
    labelNames: ['mode', 'trigger'] as const,
    registers: [registry],
    async collect() {
      const counts = await metrics.startedByModeAndTrigger();
      started.reset();
      for (const c of counts) started.inc(c.labels, c.n);
    },
  });

  const finished = new Counter({
    name: `${PREFIX}runs_finished_total`,
    help: 'Export runs finished, by mode, trigger and status (completed, failed, cancelled, partial)',
    labelNames: ['mode', 'trigger', 'status'] as const,
    registers: [registry],
    async collect() {
      const counts = await metrics.finishedByModeTriggerAndStatus();
      finished.reset();
      for (const c of counts) finished.inc(c.labels, c.n);
    },
  });

  const running = new Gauge({
    name: `${PREFIX}runs_running`,
    help: 'Export runs recorded as running, by mode',
    labelNames: ['mode'] as const,
    registers: [registry],
    async collect() {
      const counts = await metrics.runningByMode();
      running.reset();
      for (const c of counts) running.set(c.labels, c.n);
    },
  });

  const rows = new Counter({
    name: `${PREFIX}rows_total`,
    help: 'Rows sent to or removed from audiences, by mode and outcome (sent, removed)',
    labelNames: ['mode', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const byMode = await metrics.rowsByMode();
      rows.reset();
      for (const r of byMode) {
        rows.inc({ mode: r.mode, outcome: 'sent' }, r.sent);
        rows.inc({ mode: r.mode, outcome: 'removed' }, r.removed);
      }
    },
  });

  const dropped = new Counter({
    name: `${PREFIX}rows_dropped_total`,
    help: 'Rows not sent, by reason (e.g. key_identifier_missing, consent_withdrawn)',
    labelNames: ['reason'] as const,
    registers: [registry],
    async collect() {
      const counts = await metrics.droppedByReason();
      dropped.reset();
      for (const c of counts) dropped.inc(c.labels, c.n);
    },
  });

  const throttleWaits = new Counter({
    name: `${PREFIX}throttle_waits_total`,
    help: 'Times a run waited out a Facebook rate-limit block',
    registers: [registry],
    async collect() {
      const n = await metrics.throttleWaits();
      throttleWaits.reset();
      throttleWaits.inc(n);
    },
  });

  const throttleSeconds = new Counter({
    name: `${PREFIX}throttle_wait_seconds_total`,
    help: 'Time runs spent waiting out Facebook rate-limit blocks',
    registers: [registry],
    async collect() {
      const ms = await metrics.throttleWaitedMs();
      throttleSeconds.reset();
      throttleSeconds.inc(ms / 1000);
    },
  });

  registry.registerMetric(pageDurationHistogram(metrics) as unknown as Counter);
  return registry;
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * Page upload latency as a Prometheus histogram whose bucket counts the store computes: prom-client's Histogram
 * only observes values one at a time, so this is a minimal metric object of our own.
 */
function pageDurationHistogram(metrics: RunMetricsRepository) {
  const name = `${PREFIX}page_duration_seconds`;
  const help = 'Upload time of one page (one call to Facebook), pages with a recorded duration';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const { atOrUnder, count, sumSeconds } = await metrics.pageDurations(PAGE_DURATION_BUCKETS);
      const values: HistogramValue[] = PAGE_DURATION_BUCKETS.map((b, i) => ({
        metricName: `${name}_bucket`,
        labels: { le: b },
        value: atOrUnder[i] ?? 0,
      }));
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: sumSeconds });
      values.push({ metricName: `${name}_count`, labels: {}, value: count });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
