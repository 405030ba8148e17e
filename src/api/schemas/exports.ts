import { z } from 'zod';
import { EXPORT_MODES, EXPORT_TRIGGERS } from '../../domain/export-terms.js';
import { RunStatus } from '../../store/index.js';

export const RUN_STATUSES = Object.values(RunStatus);
const Mode = z.enum(EXPORT_MODES);

export const RunIdParamsSchema = z.strictObject({ runId: z.uuid({ error: 'must be a UUID' }) });

export const StartedExportSchema = z
  .object({
    runId: z.uuid(),
    workflowId: z.string(),
    temporalRunId: z.string(),
    joined: z.boolean().describe('True when an export of this audience was already running and this joined it'),
    links: z.object({ self: z.string(), temporalUi: z.string() }),
  })
  .meta({ id: 'StartedExport' });

export const ExportListQuerySchema = z.strictObject({
  destinationId: z.uuid({ error: 'must be a UUID' }).optional(),
  status: z.enum(RUN_STATUSES).optional(),
  from: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional().describe('Started at or after'),
  to: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time' }).optional().describe('Started before'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const Counts = z.record(z.string(), z.number());

export const LiveStatusSchema = z
  .object({
    status: z.string().describe('Temporal execution status: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, ...'),
    closedAt: z.string().nullable(),
  })
  .nullable()
  .describe('What Temporal says about a run recorded as running; null when its execution is gone or unreachable');

export const ExportRunSchema = z
  .object({
    runId: z.uuid(),
    destinationId: z.uuid(),
    adAccountId: z.string(),
    audienceId: z.string().nullable(),
    segments: z.array(z.string()),
    mode: Mode,
    effectiveMode: Mode.nullable(),
    modeReason: z
      .object({
        code: z
          .string()
          .describe(
            'basis_changed, format_changed, basis_mixed, audience_has_members, first_export, refresh, configured',
          ),
        text: z.string(),
      })
      .nullable()
      .describe(
        'Why the run used its mode: e.g. a mirror run replaces the audience once the mapping, key identifier, default ' +
          'country, consent attribute or Limited Data Use changed, so rows sent under the old settings leave it',
      ),
    trigger: z.enum(EXPORT_TRIGGERS),
    status: z.enum(RUN_STATUSES),
    phase: z.string().describe("The run's phase: the workflow's own while it runs and answers, else the recorded one"),
    workflowId: z.string(),
    temporalRunId: z.string().nullable(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    segmentSize: z.number().nullable(),
    sent: z.number(),
    removed: z.number(),
    dropped: Counts,
    possiblySent: z
      .number()
      .describe(
        'Rows on add pages posted without a known outcome (in flight when the run stopped): Meta may have added them',
      ),
    possiblyRemoved: z.number().describe('Rows on remove pages posted without a known outcome'),
    received: z.number(),
    invalid: z.number(),
    matched: z.number().nullable(),
    pagesTotal: z.number().nullable(),
    pagesDone: z.number(),
    error: z.object({ type: z.string().nullable(), message: z.string() }).nullable(),
    live: LiveStatusSchema.optional(),
    links: z.object({ self: z.string(), temporalUi: z.string() }),
  })
  .meta({ id: 'ExportRun' });

export const ExportPageSchema = z.object({ items: z.array(ExportRunSchema), nextCursor: z.string().nullable() });

export const ExportDetailSchema = ExportRunSchema.extend({
  progress: z
    .looseObject({
      pagesTotal: z.number(),
      pagesDone: z.number(),
      rowsTotal: z.number(),
      rowsSent: z.number(),
      rowsDropped: z.number(),
    })
    .nullable()
    .describe(
      'Live counts from the running workflow (`progress` query); null when not running or no worker answered. Its ' +
        'phase is the top-level `phase`.',
    ),
  audience: z.object({
    lowerBound: z.number().nullable(),
    upperBound: z.number().nullable(),
    operationStatus: z.number().nullable(),
    deliveryStatus: z.number().nullable(),
  }),
  healthChecks: z.array(
    z.object({
      at: z.string(),
      lowerBound: z.number().nullable(),
      upperBound: z.number().nullable(),
      operationStatus: z.number().nullable(),
      deliveryStatus: z.number().nullable(),
      matched: z.number().nullable(),
    }),
  ),
}).meta({ id: 'ExportRunDetail' });

export const CancelledSchema = z.object({ runId: z.uuid(), workflowId: z.string(), cancelRequested: z.literal(true) });

export const RefreshSchema = z.object({
  started: z.array(z.object({ destinationId: z.uuid(), runId: z.uuid(), workflowId: z.string(), joined: z.boolean() })),
  skipped: z.array(z.object({ destinationId: z.uuid(), reason: z.string() })),
});
