import { useEffect, useState } from 'react';
import { api, call, type Destination } from '../api/client';
import { ProblemAlert, useProblem } from '../components/field';
import { CONNECTION_LABELS, STATE_LABELS, when } from '../format';
import { Link } from '../router';

/** Every destination with what it needs, its connection, consent, last run and next run. */
export function DestinationList() {
  const [items, setItems] = useState<Destination[] | null>(null);
  const p = useProblem();
  const { run } = p;
  useEffect(() => {
    void run(async () => {
      const page = await call(api.GET('/destinations', { params: { query: { limit: 500 } } }));
      setItems(page.items);
    });
  }, [run]);
  return (
    <main>
      <div className="title-row">
        <h1>Destinations</h1>
        <Link to={{ page: 'new' }} className="button">
          New destination
        </Link>
      </div>
      <ProblemAlert problem={p.problem} />
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p>No destinations yet. Create one to export segments to a Facebook custom audience.</p>
      ) : (
        <table>
          <caption className="visually-hidden">Destinations</caption>
          <thead>
            <tr>
              <th scope="col">Display name</th>
              <th scope="col">Status</th>
              <th scope="col">Facebook</th>
              <th scope="col">Consent</th>
              <th scope="col">Last run</th>
              <th scope="col">Next run</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <th scope="row">
                  <Link to={d.status === 'draft' ? { page: 'setup', id: d.id } : { page: 'destination', id: d.id }}>
                    {d.displayName}
                  </Link>
                </th>
                <td>
                  <span className={`badge badge-${d.status}`}>{STATE_LABELS[d.status] ?? d.status}</span>
                </td>
                <td>{CONNECTION_LABELS[d.connection.status] ?? d.connection.status}</td>
                <td>{d.consent ? `Given ${when(d.consent.givenAt)}` : 'None'}</td>
                <td>{d.lastRun ? `${d.lastRun.status}, ${when(d.lastRun.startedAt)}` : 'Never'}</td>
                <td>{d.schedule ? (d.schedule.paused ? 'Paused' : when(d.schedule.nextRunAt)) : 'Not scheduled'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
