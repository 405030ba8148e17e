import type { Db, Queryable } from './db.js';
import { NotFoundError } from './errors.js';
import type { DropCounts, ExportMode, ExportTrigger } from '../domain/export-terms.js';
import type { FrozenExportConfig } from './export-configs.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageRequest } from './paging.js';
import { toDate, toDateOrNull, toNumberOrNull } from './rows.js';

export const RunStatus = {
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
  /** Some rows reached Meta but not all (e.g. a cancelled or failed replace). */
  Partial: 'partial',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];
export type FinishedRunStatus = Exclude<RunStatus, 'running'>;

export interface HealthCheck {
  /** ISO timestamp of the check; a check with the same `at` is recorded once (retried activities). */
  readonly at: string;
  readonly lowerBound: number | null;
  readonly upperBound: number | null;
  readonly operationStatus: number | null;
  readonly deliveryStatus: number | null;
  readonly matched: number | null;
}

export interface ExportRun {
  readonly id: string;
  readonly destinationId: string;
  readonly adAccountId: string;
  readonly audienceId: string | null;
  readonly segments: readonly string[];
  readonly mode: ExportMode;
  readonly trigger: ExportTrigger;
  readonly workflowId: string;
  readonly temporalRunId: string | null;
  readonly status: RunStatus;
  /** Free text for people: `validating`, `freezing`, `uploading`, `finalising`, `checking health`, ... */
  readonly phase: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly segmentSize: number | null;
  readonly sent: number;
  /** Rows removed from the audience (members who left, or withdrew consent). */
  readonly removed: number;
  /** The mode the run actually used: a first mirror run on an audience with members runs as a replace. */
  readonly effectiveMode: ExportMode | null;
  /** Why it used that mode (domain/snapshot-basis.ts `ModeReason`), e.g. `basis_changed` for a mirror run that replaced. */
  readonly modeReason: string | null;
  /** What the run froze: the whole segment, or (a mirror refresh) only the members that may have changed. */
  readonly freezeScope: FreezeScope | null;
  /** The profile source's change watermark its freeze saw (text of the change column's largest value). */
  readonly changeWatermark: string | null;
  readonly dropped: Readonly<DropCounts>;
  /**
   * Rows on pages posted without a known outcome (in flight when the run stopped): Meta may have applied them.
   * Their snapshot rows stay `possibly_sent` (or `removing`), so the next mirror run accounts for them.
   */
  readonly possiblySent: number;
  readonly possiblyRemoved: number;
  /** Per Meta (`num_received`, `num_invalid_entries`), summed over pages. */
  readonly received: number;
  readonly invalid: number;
  readonly matched: number | null;
  readonly pagesTotal: number | null;
  readonly pagesDone: number;
  readonly audienceLowerBound: number | null;
  readonly audienceUpperBound: number | null;
  readonly operationStatusCode: number | null;
  readonly deliveryStatusCode: number | null;
  readonly healthChecks: readonly HealthCheck[];
  /** What went wrong, in words for an operator; never personal data or tokens. */
  readonly errorMessage: string | null;
  readonly errorType: string | null;
  /** The config the run uses, frozen when it started; null for runs recorded before configs were frozen. */
  readonly exportConfig: FrozenExportConfig | null;
  readonly updatedAt: Date;
}

export type NewExportRun = Pick<
  ExportRun,
  'id' | 'destinationId' | 'adAccountId' | 'segments' | 'mode' | 'trigger' | 'workflowId'
> & {
  readonly audienceId?: string | null;
  readonly temporalRunId?: string | null;
  readonly startedAt?: Date;
  readonly exportConfig?: FrozenExportConfig;
};

export type FreezeScope = 'segment' | 'changes';

/** Fields a progress update may set; omitted fields are left as they are. */
export interface RunProgress {
  readonly phase?: string;
  /** How many times the run was told to wait out a rate limit, and for how long in all. */
  readonly throttleWaits?: number;
  readonly waitedMs?: number;
  readonly effectiveMode?: ExportMode;
  readonly modeReason?: string;
  readonly freezeScope?: FreezeScope;
  readonly changeWatermark?: string | null;
  readonly audienceId?: string;
  readonly temporalRunId?: string;
  readonly segmentSize?: number;
  readonly pagesTotal?: number;
  readonly matched?: number;
  readonly audienceLowerBound?: number;
  readonly audienceUpperBound?: number;
  readonly operationStatusCode?: number;
  readonly deliveryStatusCode?: number;
}

/** One page's outcome; recording the same page again replaces its figures (retries never double-count). */
export interface PageOutcome {
  /** Add pages and remove pages are numbered apart. @default 'add' */
  readonly kind?: 'add' | 'remove';
  readonly sent: number;
  readonly removed?: number;
  /** How long the upload call took (page latency in /metrics). */
  readonly durationMs?: number;
  readonly received?: number;
  readonly invalid?: number;
  readonly dropped?: Readonly<DropCounts>;
}

export interface RunFinish extends RunProgress {
  readonly status: FinishedRunStatus;
  readonly finishedAt?: Date;
  readonly error?: { readonly message: string; readonly type: string } | null;
}

export interface RunListOptions extends PageRequest {
  destinationId?: string;
  status?: RunStatus | readonly RunStatus[];
  /** Runs started at or after. */
  startedFrom?: Date;
  /** Runs started before. */
  startedBefore?: Date;
}

interface RunRow {
  id: string;
  destination_id: string;
  ad_account_id: string;
  audience_id: string | null;
  segments: string[];
  mode: ExportMode;
  trigger: ExportTrigger;
  workflow_id: string;
  temporal_run_id: string | null;
  status: RunStatus;
  phase: string;
  started_at: Date;
  finished_at: Date | null;
  segment_size: number | null;
  sent: number;
  removed: number;
  effective_mode: ExportMode | null;
  mode_reason: string | null;
  freeze_scope: FreezeScope | null;
  change_watermark: string | null;
  dropped: Readonly<DropCounts>;
  possibly_sent: number;
  possibly_removed: number;
  received: number;
  invalid: number;
  matched: number | null;
  pages_total: number | null;
  pages_done: number;
  audience_lower_bound: number | null;
  audience_upper_bound: number | null;
  operation_status_code: number | null;
  delivery_status_code: number | null;
  health_checks: HealthCheck[];
  error_message: string | null;
  error_type: string | null;
  export_config: FrozenExportConfig | null;
  updated_at: Date;
}

const fromRow = (r: RunRow): ExportRun => ({
  id: r.id,
  destinationId: r.destination_id,
  adAccountId: r.ad_account_id,
  audienceId: r.audience_id,
  segments: r.segments,
  mode: r.mode,
  trigger: r.trigger,
  workflowId: r.workflow_id,
  temporalRunId: r.temporal_run_id,
  status: r.status,
  phase: r.phase,
  startedAt: toDate(r.started_at),
  finishedAt: toDateOrNull(r.finished_at),
  segmentSize: toNumberOrNull(r.segment_size),
  sent: Number(r.sent),
  removed: Number(r.removed),
  effectiveMode: r.effective_mode,
  modeReason: r.mode_reason,
  freezeScope: r.freeze_scope,
  changeWatermark: r.change_watermark,
  dropped: r.dropped,
  possiblySent: Number(r.possibly_sent),
  possiblyRemoved: Number(r.possibly_removed),
  received: Number(r.received),
  invalid: Number(r.invalid),
  matched: toNumberOrNull(r.matched),
  pagesTotal: r.pages_total,
  pagesDone: r.pages_done,
  audienceLowerBound: toNumberOrNull(r.audience_lower_bound),
  audienceUpperBound: toNumberOrNull(r.audience_upper_bound),
  operationStatusCode: r.operation_status_code,
  deliveryStatusCode: r.delivery_status_code,
  healthChecks: r.health_checks,
  errorMessage: r.error_message,
  errorType: r.error_type,
  exportConfig: r.export_config,
  updatedAt: toDate(r.updated_at),
});

const PROGRESS_COLUMNS: Record<keyof RunProgress, string> = {
  phase: 'phase',
  throttleWaits: 'throttle_waits',
  waitedMs: 'waited_ms',
  effectiveMode: 'effective_mode',
  modeReason: 'mode_reason',
  freezeScope: 'freeze_scope',
  changeWatermark: 'change_watermark',
  audienceId: 'audience_id',
  temporalRunId: 'temporal_run_id',
  segmentSize: 'segment_size',
  pagesTotal: 'pages_total',
  matched: 'matched',
  audienceLowerBound: 'audience_lower_bound',
  audienceUpperBound: 'audience_upper_bound',
  operationStatusCode: 'operation_status_code',
  deliveryStatusCode: 'delivery_status_code',
};

/** `SET a = $n, ...` for the progress fields present in `p`, appending their values to `params`. */
function progressSets(p: RunProgress, params: unknown[]): string[] {
  const sets: string[] = [];
  for (const [field, column] of Object.entries(PROGRESS_COLUMNS) as [keyof RunProgress, string][]) {
    if (p[field] === undefined) continue;
    params.push(p[field]);
    sets.push(`${column} = $${params.length}`);
  }
  return sets;
}

const RETURNING = 'RETURNING *';

/** Recomputes a run's totals from its pages (inside the transaction that holds the run's row lock). */
async function refreshTotals(tx: Queryable, id: string): Promise<ExportRun> {
  const rows = await tx.query<RunRow>(
    `UPDATE export_runs r SET sent = t.sent, removed = t.removed, received = t.received, invalid = t.invalid,
       pages_done = t.pages, possibly_sent = t.possibly_sent, possibly_removed = t.possibly_removed,
       dropped = COALESCE(d.dropped, '{}'), updated_at = now()
     FROM (SELECT sum(sent) AS sent, sum(removed) AS removed, sum(received) AS received, sum(invalid) AS invalid,
                  count(*) FILTER (WHERE page >= 0 AND in_flight = 0) AS pages,
                  COALESCE(sum(in_flight) FILTER (WHERE kind = 'add'), 0) AS possibly_sent,
                  COALESCE(sum(in_flight) FILTER (WHERE kind = 'remove'), 0) AS possibly_removed
           FROM export_run_pages WHERE run_id = $1) t,
          (SELECT jsonb_object_agg(reason, n) AS dropped
           FROM (SELECT e.key AS reason, sum(e.value::text::bigint) AS n
                 FROM export_run_pages p, jsonb_each(p.dropped) e WHERE p.run_id = $1 GROUP BY e.key) x) d
     WHERE r.id = $1 RETURNING r.*`,
    [id],
  );
  return fromRow(rows[0]!);
}

export type ExportRunRepository = ReturnType<typeof createExportRunRepository>;

export function createExportRunRepository(db: Db) {
  async function get(id: string): Promise<ExportRun> {
    const [row] = await db.query<RunRow>('SELECT * FROM export_runs WHERE id = $1', [id]);
    if (!row) throw new NotFoundError('export run', id);
    return fromRow(row);
  }

  function finishRows(id: string, finish: RunFinish, onlyIfRunning: boolean): Promise<RunRow[]> {
    const params: unknown[] = [id, finish.status, finish.finishedAt ?? null, finish.error?.message ?? null];
    params.push(finish.error?.type ?? null);
    const sets = progressSets({ phase: 'finished', ...finish }, params);
    return db.query<RunRow>(
      `UPDATE export_runs SET status = $2, finished_at = COALESCE(finished_at, $3, now()),
         error_message = $4, error_type = $5, ${sets.join(', ')}, updated_at = now()
       WHERE id = $1${onlyIfRunning ? " AND status = 'running'" : ''} ${RETURNING}`,
      params,
    );
  }

  function updated(id: string, rows: RunRow[]): ExportRun {
    if (!rows[0]) throw new NotFoundError('export run', id);
    return fromRow(rows[0]);
  }

  return {
    /** Idempotent by id: creating an existing run returns it unchanged (a retried activity). */
    async create(input: NewExportRun): Promise<ExportRun> {
      const [row] = await db.query<RunRow>(
        `INSERT INTO export_runs (id, destination_id, ad_account_id, audience_id, segments, mode, trigger, workflow_id,
           temporal_run_id, started_at, export_config)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()), $11::jsonb)
         ON CONFLICT (id) DO NOTHING ${RETURNING}`,
        [
          input.id,
          input.destinationId,
          input.adAccountId,
          input.audienceId ?? null,
          input.segments,
          input.mode,
          input.trigger,
          input.workflowId,
          input.temporalRunId ?? null,
          input.startedAt ?? null,
          input.exportConfig ? JSON.stringify(input.exportConfig) : null,
        ],
      );
      return row ? fromRow(row) : get(input.id);
    },

    /** @throws NotFoundError */
    get,

    /** Newest first, keyset-paged; filters combine with AND. */
    async list(options: RunListOptions = {}): Promise<Page<ExportRun>> {
      const limit = pageLimit(options.limit);
      const after = options.cursor ? decodeCursor(options.cursor) : null;
      const statuses = options.status === undefined ? null : ([] as RunStatus[]).concat(options.status);
      const rows = await db.query<RunRow>(
        `SELECT * FROM export_runs
         WHERE ($1::timestamptz IS NULL OR (started_at, id) < ($1::timestamptz, $2::uuid))
           AND ($3::uuid IS NULL OR destination_id = $3)
           AND ($4::text[] IS NULL OR status = ANY($4))
           AND ($5::timestamptz IS NULL OR started_at >= $5)
           AND ($6::timestamptz IS NULL OR started_at < $6)
         ORDER BY started_at DESC, id DESC LIMIT $7`,
        [
          after?.at ?? null,
          after?.id ?? null,
          options.destinationId ?? null,
          statuses,
          options.startedFrom ?? null,
          options.startedBefore ?? null,
          limit + 1,
        ],
      );
      return toPage(rows.map(fromRow), limit, (r) => ({ at: r.startedAt, id: r.id }));
    },

    /** Sets the progress fields given. @throws NotFoundError */
    async updateProgress(id: string, progress: RunProgress): Promise<ExportRun> {
      const params: unknown[] = [id];
      const sets = progressSets(progress, params);
      if (sets.length === 0) return get(id);
      return updated(
        id,
        await db.query<RunRow>(
          `UPDATE export_runs SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 ${RETURNING}`,
          params,
        ),
      );
    },

    /**
     * Records one page's figures and refreshes the run's totals (sent, received, invalid, dropped, pages done)
     * from every page recorded, and settles the page if it was in flight. Safe for concurrent pages and for retries
     * of one page. Page -1 holds what planning found (members dropped before any page, e.g. without per-profile
     * consent) and is not a page done.
     * @throws NotFoundError
     */
    async recordPage(id: string, page: number, outcome: PageOutcome): Promise<ExportRun> {
      return db.transaction(async (tx) => {
        const [run] = await tx.query<{ id: string }>('SELECT id FROM export_runs WHERE id = $1 FOR UPDATE', [id]);
        if (!run) throw new NotFoundError('export run', id);
        await tx.query(
          `INSERT INTO export_run_pages (run_id, kind, page, sent, removed, received, invalid, dropped, duration_ms)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (run_id, kind, page) DO UPDATE SET sent = EXCLUDED.sent, removed = EXCLUDED.removed,
             received = EXCLUDED.received, invalid = EXCLUDED.invalid, dropped = EXCLUDED.dropped,
             duration_ms = EXCLUDED.duration_ms, in_flight = 0`,
          [
            id,
            outcome.kind ?? 'add',
            page,
            outcome.sent,
            outcome.removed ?? 0,
            outcome.received ?? 0,
            outcome.invalid ?? 0,
            JSON.stringify(outcome.dropped ?? {}),
            outcome.durationMs ?? null,
          ],
        );
        return refreshTotals(tx, id);
      });
    },

    /**
     * Marks a page as posted without an answer yet (`rows` rows), or settles it (`rows` 0) when Meta refused it for
     * certain; its other figures stay. The next `recordPage` of the page settles it too. A page Meta already
     * accepted (sent again to close its session) is not in doubt. @throws NotFoundError
     */
    async markInFlight(id: string, kind: 'add' | 'remove', page: number, rows: number): Promise<ExportRun> {
      return db.transaction(async (tx) => {
        const [run] = await tx.query<{ id: string }>('SELECT id FROM export_runs WHERE id = $1 FOR UPDATE', [id]);
        if (!run) throw new NotFoundError('export run', id);
        await tx.query(
          `INSERT INTO export_run_pages (run_id, kind, page, sent, in_flight) VALUES ($1, $2, $3, 0, $4)
           ON CONFLICT (run_id, kind, page) DO UPDATE SET in_flight =
             CASE WHEN export_run_pages.duration_ms IS NULL THEN EXCLUDED.in_flight ELSE 0 END`,
          [id, kind, page, rows],
        );
        return refreshTotals(tx, id);
      });
    },

    /**
     * Whether an earlier attempt at the page posted it (in flight with no answer, or accepted): what it carried may
     * be at Meta. A page Meta refused for certain, or that was empty, was not posted.
     */
    async pagePosted(id: string, kind: 'add' | 'remove', page: number): Promise<boolean> {
      const [row] = await db.query<{ posted: boolean }>(
        `SELECT in_flight > 0 OR duration_ms IS NOT NULL AS posted FROM export_run_pages
         WHERE run_id = $1 AND kind = $2 AND page = $3`,
        [id, kind, page],
      );
      return row?.posted ?? false;
    },

    /**
     * Marks the run finished with its final status (and any last figures). Calling it again (a retried activity)
     * updates the figures but keeps the first finish time. @throws NotFoundError
     */
    async finish(id: string, finish: RunFinish): Promise<ExportRun> {
      return updated(id, await finishRows(id, finish, false));
    },

    /**
     * Finishes the run only if its record still says running (a run Temporal closed without the workflow finalising
     * it); null when it was already finished, so the workflow's own figures always win. @throws NotFoundError
     */
    async finishIfRunning(id: string, finish: RunFinish): Promise<ExportRun | null> {
      const rows = await finishRows(id, finish, true);
      if (rows[0]) return fromRow(rows[0]);
      await get(id);
      return null;
    },

    /**
     * Appends a later check of the audience (after 1 and 24 hours) and takes its figures as the run's latest.
     * A check with an `at` already recorded is ignored. @throws NotFoundError
     */
    async appendHealthCheck(id: string, check: HealthCheck): Promise<ExportRun> {
      const rows = await db.query<RunRow>(
        `UPDATE export_runs SET health_checks = health_checks || jsonb_build_array($2::jsonb),
           audience_lower_bound = COALESCE($3, audience_lower_bound),
           audience_upper_bound = COALESCE($4, audience_upper_bound),
           operation_status_code = COALESCE($5, operation_status_code),
           delivery_status_code = COALESCE($6, delivery_status_code),
           matched = COALESCE($7, matched), updated_at = now()
         WHERE id = $1 AND NOT health_checks @> jsonb_build_array(jsonb_build_object('at', $8::text)) ${RETURNING}`,
        [
          id,
          JSON.stringify(check),
          check.lowerBound,
          check.upperBound,
          check.operationStatus,
          check.deliveryStatus,
          check.matched,
          check.at,
        ],
      );
      return rows[0] ? fromRow(rows[0]) : get(id);
    },

    /** Runs still marked running (e.g. to reconcile with Temporal after a crash). */
    async listRunning(): Promise<ExportRun[]> {
      const rows = await db.query<RunRow>("SELECT * FROM export_runs WHERE status = 'running' ORDER BY started_at, id");
      return rows.map(fromRow);
    },
  };
}
