import type { ExportRun, ExportRunDetail } from '../api/client';
import { n, when } from '../format';

/** A run's report, as the CLI prints it: sent, removed, dropped by reason, received/invalid, audience size. */
export function RunReport({ run }: { run: ExportRun | ExportRunDetail }) {
  const detail = 'audience' in run ? run : null;
  const dropped = Object.entries(run.dropped).filter(([, count]) => count > 0);
  const droppedTotal = dropped.reduce((sum, [, count]) => sum + count, 0);
  return (
    <dl className="report">
      <dt>Status</dt>
      <dd>
        {run.status}
        {run.effectiveMode && run.effectiveMode !== run.mode
          ? ` (${run.mode}, ran as ${run.effectiveMode})`
          : ` (${run.mode})`}
      </dd>
      <dt>Segment size</dt>
      <dd>
        {n(run.segmentSize)} profiles in {run.segments.join(', ')}
      </dd>
      <dt>Sent</dt>
      <dd>
        {n(run.sent)} rows (Meta received {n(run.received)}, invalid {n(run.invalid)})
      </dd>
      <dt>Removed</dt>
      <dd>{n(run.removed)} rows</dd>
      <dt>Dropped</dt>
      <dd>
        {n(droppedTotal)}
        {dropped.length > 0 ? ` (${dropped.map(([reason, count]) => `${reason} ${n(count)}`).join(', ')})` : ''}
      </dd>
      {run.possiblySent + run.possiblyRemoved > 0 ? (
        <>
          <dt>Possibly applied</dt>
          <dd>
            {n(run.possiblySent + run.possiblyRemoved)} rows ({n(run.possiblySent)} added, {n(run.possiblyRemoved)}{' '}
            removed): in flight when the run stopped, so Meta may have applied them
          </dd>
        </>
      ) : null}
      {detail ? (
        <>
          <dt>Audience size</dt>
          <dd>
            {detail.audience.lowerBound === null
              ? 'not known yet'
              : `${n(detail.audience.lowerBound)} – ${n(detail.audience.upperBound)} (Meta's estimate; applied within 24 h)`}
          </dd>
        </>
      ) : null}
      <dt>Started</dt>
      <dd>
        {when(run.startedAt)} ({run.trigger})
      </dd>
      {run.error ? (
        <>
          <dt>Why</dt>
          <dd>{run.error.message}</dd>
        </>
      ) : null}
      <dt>Temporal</dt>
      <dd>
        <a href={run.links.temporalUi} target="_blank" rel="noopener noreferrer">
          Open this run in the Temporal UI
        </a>
      </dd>
    </dl>
  );
}
