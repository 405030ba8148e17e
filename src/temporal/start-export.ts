import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { audienceNameOf, type ExportConfig, type ReadyDestination } from '../store/index.js';
import type { ExportMode, ExportTrigger } from '../domain/export-terms.js';
import {
  DEFAULT_EXPORT_TIMEOUT_MS,
  exportWorkflowId,
  type ExportInput,
  type ExportTimings,
} from '../workflows/contracts.js';
import type { exportSegment } from '../workflows/export-segment.js';
import { searchAttributes } from '../workflows/search-attributes.js';

/** What a starter knows about the export: names for the UI, ids for the search attributes. Nothing personal. */
export interface ExportTarget {
  destinationId: string;
  destinationName: string;
  adAccountId: string;
  /** The audience's id, or undefined when the destination asks for a new audience (created on validation). */
  audienceId?: string;
  audienceName: string;
  segments: string[];
  mode: ExportMode;
}

/** The target of a destination whose ad account and audience are chosen, as its export config describes it. */
export function exportTargetOf(
  destination: Pick<ReadyDestination, 'id' | 'displayName' | 'adAccountId' | 'audienceId' | 'newAudienceName'>,
  config: Pick<ExportConfig, 'segments' | 'mode'>,
): ExportTarget {
  return {
    destinationId: destination.id,
    destinationName: destination.displayName,
    adAccountId: destination.adAccountId,
    audienceId: destination.audienceId ?? undefined,
    audienceName: audienceNameOf(destination),
    segments: [...config.segments],
    mode: config.mode,
  };
}

export interface StartExportOptions {
  taskQueue: string;
  trigger: ExportTrigger;
  pageConcurrency?: number;
  timings?: ExportTimings;
  /** The workflow's execution timeout (EXPORT_TIMEOUT_MS). @default DEFAULT_EXPORT_TIMEOUT_MS (24 h) */
  timeoutMs?: number;
}

export interface StartedExport {
  workflowId: string;
  /** Temporal's run id of the execution started or joined. */
  temporalRunId: string;
  /** Our export_runs id of that execution. */
  runId: string;
  /** True when an export of this audience was already running and this request joined it. */
  joined: boolean;
}

/** The audience half of the workflow id: the audience, or the destination until its new audience exists. */
export function audienceKey(target: Pick<ExportTarget, 'audienceId' | 'destinationId'>): string {
  return target.audienceId ?? `new-${target.destinationId}`;
}

/**
 * Static details cannot change after the start, so for a new audience they say where its id will show instead of
 * claiming it is still to be created after it was.
 */
const NEW_AUDIENCE_NOTE = ', a new audience: its id shows in the current details and the AudienceId search attribute';

export function describeExport(target: ExportTarget): string {
  const segments = target.segments.map((s) => `'${s}'`).join(', ');
  return (
    `Export segment${target.segments.length > 1 ? 's' : ''} ${segments} to audience '${target.audienceName}' ` +
    `(${target.adAccountId}), ${target.mode} mode`
  );
}

/**
 * Starts the audience's export, or joins the one already running: the workflow id names the audience and
 * the conflict policy is USE_EXISTING, so at most one export per audience runs at a time.
 */
export async function startExport(
  client: Client,
  target: ExportTarget,
  options: StartExportOptions,
): Promise<StartedExport> {
  const workflowId = exportWorkflowId(target.adAccountId, audienceKey(target));
  const runId = randomUUID();
  const input: ExportInput = {
    destinationId: target.destinationId,
    trigger: options.trigger,
    runId,
    pageConcurrency: options.pageConcurrency,
    timings: options.timings,
  };
  // By type name: a client need not load the workflow's code (its module imports the workflow runtime).
  const handle = await client.workflow.start<typeof exportSegment>('exportSegment', {
    workflowId,
    taskQueue: options.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // Spans continue-as-new: an export stuck on pages that retry for ever (a Facebook outage, an endless block) stops,
    // and the run reconciler records it as timed out, so the audience's next export can start.
    workflowExecutionTimeout: options.timeoutMs ?? DEFAULT_EXPORT_TIMEOUT_MS,
    memo: { runId },
    staticSummary: describeExport(target),
    staticDetails: [
      `**Destination:** ${target.destinationName} (\`${target.destinationId}\`)`,
      `**Ad account:** ${target.adAccountId}`,
      `**Audience:** ${target.audienceName}${target.audienceId ? ` (\`${target.audienceId}\`)` : NEW_AUDIENCE_NOTE}`,
      `**Segments:** ${target.segments.join(', ')}`,
      `**Mode:** ${target.mode}`,
      `**Trigger:** ${options.trigger}`,
      `**Run:** \`${runId}\``,
    ].join('  \n'),
    typedSearchAttributes: [
      { key: searchAttributes.destinationId, value: target.destinationId },
      { key: searchAttributes.adAccountId, value: target.adAccountId },
      { key: searchAttributes.audienceId, value: audienceKey(target) },
      { key: searchAttributes.segments, value: target.segments },
      { key: searchAttributes.mode, value: target.mode },
      { key: searchAttributes.trigger, value: options.trigger },
    ],
  });
  const temporalRunId = handle.firstExecutionRunId;
  const memo = (await handle.describe()).memo as { runId?: string } | undefined;
  const actualRunId = memo?.runId ?? runId;
  return { workflowId, temporalRunId, runId: actualRunId, joined: actualRunId !== runId };
}
