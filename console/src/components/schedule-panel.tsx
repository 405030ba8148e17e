import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, ApiProblem, call, type Schedule } from '../api/client';
import { when } from '../format';
import { Field, ProblemAlert, useProblem } from './field';

const OUTCOME_LABELS: Record<Schedule['recentActions'][number]['outcome'], string> = {
  starting: 'starting',
  start_failed: 'could not start',
  unknown: 'unknown (Temporal no longer has it)',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  partial: 'partly sent',
};

/**
 * The destination's refresh schedule: cron or interval, next runs, pause and resume, run now, and how its recent
 * actions went. `refresh` changes when a run of the destination ended, so the outcomes are read again.
 */
export function SchedulePanel(props: { id: string; refresh: number; onTriggered: (runId: string | null) => void }) {
  const { id, refresh, onTriggered } = props;
  const [schedule, setSchedule] = useState<Schedule | null | undefined>(undefined);
  const [kind, setKind] = useState<'cron' | 'interval'>('cron');
  const [cron, setCron] = useState('0 6 * * *');
  const [timezone, setTimezone] = useState('UTC');
  const [minutes, setMinutes] = useState('60');
  const [note, setNote] = useState('');
  const p = useProblem();
  const { run } = p;

  const load = useCallback(async () => {
    const s = await call(api.GET('/destinations/{id}/schedule', { params: { path: { id } } })).catch((err: unknown) => {
      if (err instanceof ApiProblem && err.status === 404) return null;
      throw err;
    });
    setSchedule(s);
    if (s?.cron) {
      setKind('cron');
      setCron(s.cron);
      setTimezone(s.timezone);
    } else if (s?.intervalSeconds) {
      setKind('interval');
      setMinutes(String(Math.round(s.intervalSeconds / 60)));
    }
  }, [id]);
  useEffect(() => void run(load), [run, load, refresh]);

  const save = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body =
        kind === 'cron' ? { cron, timezone } : { intervalSeconds: Math.round(Number(minutes) * 60), timezone };
      setSchedule(await call(api.PUT('/destinations/{id}/schedule', { params: { path: { id } }, body })));
      setNote('Schedule saved.');
    });
  };
  const act = (action: 'pause' | 'resume') =>
    run(async () => {
      const path = action === 'pause' ? '/destinations/{id}/schedule/pause' : '/destinations/{id}/schedule/resume';
      setSchedule(await call(api.POST(path, { params: { path: { id } } })));
      setNote(action === 'pause' ? 'Schedule paused.' : 'Schedule resumed.');
    });
  const runNow = () =>
    run(async () => {
      const triggered = await call(api.POST('/destinations/{id}/schedule/trigger', { params: { path: { id } } }));
      setNote(
        triggered.runId === null
          ? 'Triggered: the export starts in a moment.'
          : triggered.joined
            ? 'Triggered: joined the export of this audience already running.'
            : 'Triggered: export started.',
      );
      onTriggered(triggered.runId);
      await load();
    });
  const remove = () =>
    run(async () => {
      await call(api.DELETE('/destinations/{id}/schedule', { params: { path: { id } } }));
      setSchedule(null);
      setNote('Schedule removed.');
    });

  return (
    <section aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Schedule</h2>
      <ProblemAlert problem={p.problem} />
      <p role="status" className="status-line">
        {note}
      </p>
      {schedule ? (
        <div className="schedule-state">
          <p>
            {schedule.cron
              ? `Cron ${schedule.cron} (${schedule.timezone})`
              : `Every ${Math.round((schedule.intervalSeconds ?? 0) / 60)} minutes`}
            {schedule.paused ? ' — paused' : ''}
            {schedule.paused && schedule.note ? ` (${schedule.note})` : ''}
          </p>
          {!schedule.paused && schedule.nextRuns.length > 0 ? (
            <>
              <h3>Next runs</h3>
              <ul className="next-runs">
                {schedule.nextRuns.slice(0, 5).map((t) => (
                  <li key={t}>{when(t)}</li>
                ))}
              </ul>
            </>
          ) : null}
          {schedule.recentActions.length > 0 ? (
            <>
              <h3>Recent runs of the schedule</h3>
              <ul className="schedule-actions">
                {schedule.recentActions
                  .slice(-5)
                  .reverse()
                  .map((a) => (
                    <li key={a.workflowId}>
                      {when(a.takenAt)} · {OUTCOME_LABELS[a.outcome]}
                      {a.joined ? ' (joined a running export)' : ''}
                      {a.error ? `: ${a.error}` : ''}
                    </li>
                  ))}
              </ul>
            </>
          ) : null}
          <div className="actions">
            {schedule.paused ? (
              <button type="button" onClick={() => void act('resume')}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => void act('pause')}>
                Pause
              </button>
            )}
            <button type="button" onClick={() => void runNow()}>
              Run now
            </button>
            <button type="button" className="secondary" onClick={() => void remove()}>
              Remove schedule
            </button>
          </div>
        </div>
      ) : schedule === null ? (
        <p>Not scheduled: exports run only when started.</p>
      ) : null}
      <form onSubmit={save} noValidate>
        <fieldset>
          <legend>{schedule ? 'Change the schedule' : 'Set a schedule'}</legend>
          <label className="choice">
            <input type="radio" name="schedule-kind" checked={kind === 'cron'} onChange={() => setKind('cron')} /> Cron
          </label>
          <label className="choice">
            <input
              type="radio"
              name="schedule-kind"
              checked={kind === 'interval'}
              onChange={() => setKind('interval')}
            />{' '}
            Interval
          </label>
          {kind === 'cron' ? (
            <>
              <Field
                id="schedule-cron"
                label="Cron expression"
                hint="Minute hour day-of-month month day-of-week, e.g. 0 6 * * 1-5 for 06:00 on weekdays."
                error={p.errorOf('cron')}
              >
                {(c) => <input {...c} value={cron} onChange={(e) => setCron(e.target.value)} />}
              </Field>
              <Field id="schedule-timezone" label="Time zone" error={p.errorOf('timezone')}>
                {(c) => <input {...c} value={timezone} onChange={(e) => setTimezone(e.target.value)} />}
              </Field>
            </>
          ) : (
            <Field id="schedule-interval" label="Interval in minutes" error={p.errorOf('intervalSeconds')}>
              {(c) => (
                <input {...c} type="number" min={1} value={minutes} onChange={(e) => setMinutes(e.target.value)} />
              )}
            </Field>
          )}
          <button type="submit">Save schedule</button>
        </fieldset>
      </form>
    </section>
  );
}
