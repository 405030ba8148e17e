import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiProblem, call, type Destination, type ExportRun, type ExportRunDetail } from '../api/client';
import { ConfirmDialog } from '../components/confirm-dialog';
import { Field, ProblemAlert, useProblem } from '../components/field';
import { RunReport } from '../components/run-report';
import { SchedulePanel } from '../components/schedule-panel';
import { CONNECTION_LABELS, n, STATE_LABELS, when } from '../format';
import { Link, navigate } from '../router';
import { operator, rememberOperator } from '../session';

const POLL_MS = 500;
const HISTORY_POLL_MS = 1_500;

/** A destination: Export now with live progress, run history with reports, schedule, consent, delete. */
export function DestinationPage({ id }: { id: string }) {
  const [destination, setDestination] = useState<Destination | null>(null);
  const [runs, setRuns] = useState<ExportRun[]>([]);
  const [activeRunId, setActiveRunId] = useState<string | null>(null);
  const [awaitingRun, setAwaitingRun] = useState(false);
  const [finishedRuns, setFinishedRuns] = useState(0);
  const p = useProblem();
  const { run } = p;

  const loadDestination = useCallback(async () => {
    setDestination(await call(api.GET('/destinations/{id}', { params: { path: { id } } })));
  }, [id]);
  const loadRuns = useCallback(async () => {
    const page = await call(api.GET('/exports', { params: { query: { destinationId: id, limit: 20 } } }));
    setRuns(page.items);
    return page.items;
  }, [id]);

  useEffect(() => {
    void run(async () => {
      await loadDestination();
      const items = await loadRuns();
      const running = items.find((r) => r.status === 'running');
      if (running) setActiveRunId(running.runId);
    });
  }, [run, loadDestination, loadRuns]);

  // After a "Run now" whose run was not known yet: watch the history until it shows up, then follow it.
  const runsRef = useRef(runs);
  runsRef.current = runs;
  useEffect(() => {
    if (!awaitingRun) return;
    const known = new Set(runsRef.current.map((r) => r.runId));
    const timer = setInterval(() => {
      void loadRuns().then((items) => {
        const started = items.find((r) => !known.has(r.runId));
        if (started) {
          setAwaitingRun(false);
          setActiveRunId(started.runId);
        }
      });
    }, HISTORY_POLL_MS);
    return () => clearInterval(timer);
  }, [awaitingRun, loadRuns]);

  const exportNow = () =>
    run(async () => {
      const started = await call(api.POST('/destinations/{id}/exports', { params: { path: { id } } }));
      setActiveRunId(started.runId);
    });

  const onFinished = useCallback(() => {
    void loadRuns();
    void loadDestination();
    setFinishedRuns((count) => count + 1);
  }, [loadRuns, loadDestination]);

  // "Run now" answers the run the schedule started; without one (no worker took it in time) watch the history.
  const onTriggered = useCallback(
    (runId: string | null) => {
      if (runId === null) return setAwaitingRun(true);
      setActiveRunId(runId);
      void loadRuns();
    },
    [loadRuns],
  );

  if (!destination) {
    return (
      <main>
        <ProblemAlert problem={p.problem} />
        {p.problem ? null : <p>Loading…</p>}
      </main>
    );
  }
  const ready = destination.status === 'active';
  return (
    <main>
      <p>
        <Link to={{ page: 'list' }}>← Destinations</Link>
      </p>
      <div className="title-row">
        <h1>{destination.displayName}</h1>
        <span className={`badge badge-${destination.status}`}>{STATE_LABELS[destination.status]}</span>
      </div>
      <dl className="summary">
        <dt>Ad account</dt>
        <dd>{destination.adAccountId ?? 'not chosen'}</dd>
        <dt>Custom audience</dt>
        <dd>
          {destination.audienceId ??
            (destination.newAudienceName
              ? `${destination.newAudienceName} (created at the first export)`
              : 'not chosen')}
        </dd>
        <dt>Facebook</dt>
        <dd>
          {CONNECTION_LABELS[destination.connection.status]}
          {destination.connection.expiresAt ? `, until ${when(destination.connection.expiresAt)}` : ''}
        </dd>
      </dl>
      {destination.status === 'draft' ||
      destination.status === 'not_connected' ||
      destination.status === 'needs_reconnect' ? (
        <p>
          <Link to={{ page: 'setup', id }}>Continue the setup</Link>
        </p>
      ) : null}
      <ProblemAlert problem={p.problem} />

      <section aria-labelledby="export-heading">
        <h2 id="export-heading">Export</h2>
        <div className="actions">
          <button type="button" onClick={() => void exportNow()} disabled={!ready}>
            Export now
          </button>
          <Link to={{ page: 'export-setup', id }}>Change what is exported</Link>
        </div>
        {!ready ? (
          <p className="hint">Exports start once the destination is active ({STATE_LABELS[destination.status]}).</p>
        ) : null}
        {activeRunId ? <ActiveRun key={activeRunId} runId={activeRunId} onFinished={onFinished} /> : null}
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Run history</h2>
        {runs.length === 0 ? (
          <p>No runs yet.</p>
        ) : (
          <ul className="runs">
            {runs.map((r) => (
              <li key={r.runId}>
                <details>
                  <summary>
                    {when(r.startedAt)} · {r.trigger} · <span className={`run-${r.status}`}>{r.status}</span> · sent{' '}
                    {n(r.sent)}, removed {n(r.removed)}
                  </summary>
                  <RunDetails run={r} />
                </details>
              </li>
            ))}
          </ul>
        )}
      </section>

      <SchedulePanel id={id} refresh={finishedRuns} onTriggered={onTriggered} />
      <ConsentPanel destination={destination} onChanged={() => void run(loadDestination)} />
      <DeletePanel destination={destination} />
    </main>
  );
}

/** The run's detail (audience size, health) is fetched when its report is opened. */
function RunDetails({ run }: { run: ExportRun }) {
  const [detail, setDetail] = useState<ExportRunDetail | null>(null);
  useEffect(() => {
    void call(api.GET('/exports/{runId}', { params: { path: { runId: run.runId } } })).then(setDetail, () => undefined);
  }, [run.runId]);
  return <RunReport run={detail ?? run} />;
}

/** A live progress bar of one run, polling the API until the run ends; then its report. */
function ActiveRun({ runId, onFinished }: { runId: string; onFinished: () => void }) {
  const [detail, setDetail] = useState<ExportRunDetail | null>(null);
  const finished = useRef(false);
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const d = await call(api.GET('/exports/{runId}', { params: { path: { runId } } }));
        if (stopped) return;
        setDetail(d);
        if (d.status !== 'running') {
          if (!finished.current) onFinished();
          finished.current = true;
          return;
        }
      } catch (err) {
        // The run's record appears once the workflow validated it: until then, keep asking.
        if (!(err instanceof ApiProblem && err.status === 404)) throw err;
      }
      if (!stopped) setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [runId, onFinished]);

  const live = detail?.progress;
  const total = live?.pagesTotal ?? detail?.pagesTotal ?? 0;
  const done = live?.pagesDone ?? detail?.pagesDone ?? 0;
  const running = !detail || detail.status === 'running';
  return (
    <div className="active-run">
      <label htmlFor="export-progress">
        {running ? `Exporting: ${detail?.phase ?? 'starting'}` : `Export ${detail.status}`}
      </label>
      <progress
        id="export-progress"
        max={Math.max(total, 1)}
        value={running ? (total > 0 ? done : undefined) : Math.max(total, 1)}
        aria-valuetext={total > 0 ? `pages ${done} of ${total}` : 'starting'}
      />
      <p className="status-line" aria-live="polite">
        {total > 0 ? `pages ${done}/${total}` : ''}
        {live ? ` · sent ${n(live.rowsSent)} · dropped ${n(live.rowsDropped)}` : ''}
      </p>
      {detail && !running ? (
        <section aria-label="Run report">
          <h3>Report</h3>
          <RunReport run={detail} />
        </section>
      ) : null}
    </div>
  );
}

function ConsentPanel({ destination, onChanged }: { destination: Destination; onChanged: () => void }) {
  const [withdrawnBy, setWithdrawnBy] = useState(operator());
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState('');
  const p = useProblem();
  const withdraw = () =>
    void p.run(async () => {
      setConfirming(false);
      rememberOperator(withdrawnBy);
      const result = await call(
        api.DELETE('/destinations/{id}/consent', {
          params: { path: { id: destination.id }, query: { withdrawnBy } },
        }),
      );
      setNote(
        `Consent withdrawn: ${result.cancelledExports} running export(s) cancelled, schedule ${result.schedulePaused ? 'paused' : 'unchanged'}.`,
      );
      onChanged();
    });
  return (
    <section aria-labelledby="consent-heading">
      <h2 id="consent-heading">Data privacy and compliance</h2>
      <ProblemAlert problem={p.problem} />
      <p role="status" className="status-line">
        {note}
      </p>
      {destination.consent ? (
        <>
          <p>
            Agreed by {destination.consent.givenBy} on {when(destination.consent.givenAt)} (statement{' '}
            {destination.consent.statementVersion}).
          </p>
          <Field id="withdrawn-by" label="Withdrawn by (your name or work email)" error={p.errorOf('withdrawnBy')}>
            {(c) => <input {...c} value={withdrawnBy} onChange={(e) => setWithdrawnBy(e.target.value)} />}
          </Field>
          <button type="button" className="danger" disabled={!withdrawnBy.trim()} onClick={() => setConfirming(true)}>
            Withdraw consent
          </button>
          <ConfirmDialog
            open={confirming}
            title="Withdraw consent?"
            confirmLabel="Withdraw consent"
            onConfirm={withdraw}
            onCancel={() => setConfirming(false)}
          >
            <p>
              Running exports of this destination stop at once and its schedule is paused. No export runs until consent
              is given again.
            </p>
          </ConfirmDialog>
        </>
      ) : (
        <p>
          No consent: exports are refused.{' '}
          <Link to={{ page: 'setup', id: destination.id }}>Review the statement and agree</Link>.
        </p>
      )}
    </section>
  );
}

function DeletePanel({ destination }: { destination: Destination }) {
  const [confirming, setConfirming] = useState(false);
  const [deleteAudience, setDeleteAudience] = useState(false);
  const p = useProblem();
  const remove = () =>
    void p.run(async () => {
      await call(
        api.DELETE('/destinations/{id}', {
          params: { path: { id: destination.id }, query: { deleteAudience: deleteAudience ? 'true' : 'false' } },
        }),
      );
      setConfirming(false);
      navigate({ page: 'list' });
    });
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete</h2>
      <ProblemAlert problem={p.problem} />
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Delete destination
      </button>
      <ConfirmDialog
        open={confirming}
        title={`Delete ${destination.displayName}?`}
        confirmLabel="Delete destination"
        onConfirm={remove}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Deleting stops everything this destination does: its running exports are cancelled, its schedule is deleted,
          and its Facebook token and audience snapshots are deleted. Consent records and run history are kept.
        </p>
        <label className="choice">
          <input type="checkbox" checked={deleteAudience} onChange={(e) => setDeleteAudience(e.target.checked)} /> Also
          delete the Facebook audience (permanent; ads using it stop)
        </label>
      </ConfirmDialog>
    </section>
  );
}
