import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, call, type Destination, type Schemas } from '../api/client';
import { Field, FieldError, ProblemAlert, useProblem } from '../components/field';
import { CONNECTION_LABELS, n } from '../format';
import { navigate, pathOf } from '../router';
import { operator, rememberOperator } from '../session';

type AdAccount = Schemas['AdAccountList']['items'][number];
type Audience = Schemas['AudienceList']['items'][number];
type Statement = Schemas['ConsentStatement'];

/**
 * "New destination", first screen, in the connector's order: Display name → Continue with Facebook (or a
 * system-user token) → the ads_management permission → Ad account → Existing or New custom audience → the data
 * privacy and compliance statement → I agree → Next. The destination is saved as a draft at the first step, so the
 * Facebook login (a full page away) comes back to this same screen.
 */
export function SetupConnection({ id }: { id: string | undefined }) {
  const [destination, setDestination] = useState<Destination | null>(null);
  const [displayName, setDisplayName] = useState('');
  const [token, setToken] = useState('');
  const [accounts, setAccounts] = useState<AdAccount[] | null>(null);
  const [adAccountId, setAdAccountId] = useState('');
  const [audiences, setAudiences] = useState<Audience[] | null>(null);
  const [choice, setChoice] = useState<'existing' | 'new'>('new');
  const [audienceId, setAudienceId] = useState('');
  const [newAudienceName, setNewAudienceName] = useState('');
  const [statement, setStatement] = useState<Statement | null>(null);
  const [agreed, setAgreed] = useState(false);
  const [givenBy, setGivenBy] = useState(operator());
  const [notAgreed, setNotAgreed] = useState(false);
  const p = useProblem();
  const { run } = p;

  const connected = destination !== null && ['connected', 'expiring_soon'].includes(destination.connection.status);

  const load = useCallback(async (destinationId: string) => {
    const d = await call(api.GET('/destinations/{id}', { params: { path: { id: destinationId } } }));
    setDestination(d);
    setDisplayName(d.displayName);
    if (d.adAccountId) setAdAccountId(d.adAccountId);
    if (d.audienceId) {
      setChoice('existing');
      setAudienceId(d.audienceId);
    } else if (d.newAudienceName) {
      setChoice('new');
      setNewAudienceName(d.newAudienceName);
    } else {
      setNewAudienceName(d.displayName);
    }
    if (d.consent) setAgreed(true);
    return d;
  }, []);

  useEffect(() => {
    void run(async () => {
      const statements = await call(api.GET('/consent-statements'));
      setStatement(statements.items.find((s) => s.version === statements.current) ?? null);
      if (id) await load(id);
    });
  }, [id, load, run]);

  // Once connected: the ad accounts the connection manages.
  useEffect(() => {
    if (!connected || !destination) return;
    void run(async () => {
      const list = await call(
        api.GET('/destinations/{id}/facebook/ad-accounts', { params: { path: { id: destination.id } } }),
      );
      setAccounts(list.items);
      setAdAccountId((current) => current || list.items[0]?.id || '');
    });
  }, [connected, destination, run]);

  // The chosen account's customer-list audiences.
  useEffect(() => {
    if (!connected || !destination || !adAccountId) return;
    setAudiences(null);
    void run(async () => {
      const list = await call(
        api.GET('/destinations/{id}/facebook/ad-accounts/{adAccountId}/audiences', {
          params: { path: { id: destination.id, adAccountId }, query: { limit: 100 } },
        }),
      );
      setAudiences(list.items);
    });
  }, [connected, destination, adAccountId, run]);

  /** The draft this screen works on, created from the display name at the first step. */
  const ensureDraft = async (): Promise<Destination> => {
    if (destination) {
      if (displayName.trim() !== destination.displayName) {
        const changed = await call(
          api.PATCH('/destinations/{id}', { params: { path: { id: destination.id } }, body: { displayName } }),
        );
        setDestination(changed);
        return changed;
      }
      return destination;
    }
    const created = await call(api.POST('/destinations', { body: { displayName } }));
    setDestination(created);
    history.replaceState(null, '', pathOf({ page: 'setup', id: created.id }));
    return created;
  };

  const continueWithFacebook = () =>
    run(async () => {
      const d = await ensureDraft();
      const dialog = await call(
        api.GET('/destinations/{id}/facebook/connect', {
          params: {
            path: { id: d.id },
            query: { redirect: 'false', returnTo: pathOf({ page: 'setup', id: d.id }) },
          },
        }),
      );
      // A full page away to Facebook's dialog; its callback brings the browser back to this screen.
      window.location.assign(dialog.dialogUrl);
    });

  const connectWithToken = () =>
    run(async () => {
      const d = await ensureDraft();
      await call(api.PUT('/destinations/{id}/facebook/token', { params: { path: { id: d.id } }, body: { token } }));
      setToken('');
      await load(d.id);
    });

  const next = (e: FormEvent) => {
    e.preventDefault();
    if (!destination) return;
    setNotAgreed(!agreed);
    if (!agreed) return;
    void run(async () => {
      const audience = choice === 'existing' ? { audienceId } : { newAudienceName };
      await call(
        api.PATCH('/destinations/{id}', {
          params: { path: { id: destination.id } },
          body: { displayName, adAccountId, ...audience },
        }),
      );
      if (statement && destination.consent?.statementVersion !== statement.version) {
        rememberOperator(givenBy);
        await call(
          api.POST('/destinations/{id}/consent', {
            params: { path: { id: destination.id } },
            body: { givenBy, statementVersion: statement.version },
          }),
        );
      }
      navigate({ page: 'export-setup', id: destination.id });
    });
  };

  const account = accounts?.find((a) => a.id === adAccountId);
  const scopes = destination?.connection.scopes ?? [];
  return (
    <main>
      <h1>New destination</h1>
      <p className="steps">
        <strong>1. Connection</strong> · 2. Export
      </p>
      <ProblemAlert problem={p.problem} />
      <form onSubmit={next} noValidate>
        <Field id="display-name" label="Display name" error={p.errorOf('displayName')}>
          {(c) => (
            <input
              {...c}
              required
              maxLength={200}
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
            />
          )}
        </Field>

        <section aria-labelledby="facebook-heading">
          <h2 id="facebook-heading">Facebook</h2>
          {destination && destination.connection.status !== 'not_connected' ? (
            <p className="status-line">
              {CONNECTION_LABELS[destination.connection.status]}
              {destination.connection.kind === 'system_user' ? ' with a system-user token' : ' with Facebook login'}.
            </p>
          ) : null}
          <div className="actions">
            <button type="button" disabled={!displayName.trim()} onClick={() => void continueWithFacebook()}>
              Continue with Facebook
            </button>
          </div>
          <details>
            <summary>Or paste a system-user token</summary>
            <Field
              id="system-user-token"
              label="System-user token"
              error={p.errorOf('token')}
              hint="From Business Settings → System users, with ads_management, assigned to the ad account."
            >
              {(c) => (
                <input
                  {...c}
                  type="password"
                  autoComplete="off"
                  value={token}
                  onChange={(e) => setToken(e.target.value)}
                />
              )}
            </Field>
            <button
              type="button"
              disabled={!displayName.trim() || !token.trim()}
              onClick={() => void connectWithToken()}
            >
              Use token
            </button>
          </details>
          {connected ? (
            <fieldset className="permissions">
              <legend>Permissions</legend>
              <label>
                <input type="checkbox" checked={scopes.includes('ads_management')} readOnly disabled /> ads_management
              </label>
              {!scopes.includes('ads_management') ? (
                <p className="field-error">Connect again and grant ads_management.</p>
              ) : null}
            </fieldset>
          ) : null}
        </section>

        {connected ? (
          <>
            <Field id="ad-account" label="Ad account" error={p.errorOf('adAccountId')}>
              {(c) => (
                <select {...c} value={adAccountId} onChange={(e) => setAdAccountId(e.target.value)}>
                  {accounts === null ? <option value="">Loading…</option> : null}
                  {accounts?.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.name ? `${a.name} (${a.id})` : a.id}
                      {a.customAudienceTermsAccepted ? ' — terms accepted' : ' — terms not accepted'}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {account ? (
              <p className="terms" aria-live="polite">
                {account.customAudienceTermsAccepted ? (
                  'Custom audience terms accepted.'
                ) : (
                  <>
                    Custom audience terms not accepted: exports are refused until a person with a role on the account
                    accepts them.{' '}
                    {account.termsUrl ? (
                      <a href={account.termsUrl} target="_blank" rel="noopener noreferrer">
                        Accept the custom audience terms
                      </a>
                    ) : null}
                  </>
                )}
              </p>
            ) : null}

            <fieldset>
              <legend>Custom audience</legend>
              <label className="choice">
                <input
                  type="radio"
                  name="audience-choice"
                  checked={choice === 'existing'}
                  onChange={() => setChoice('existing')}
                />{' '}
                Existing custom audience
              </label>
              {choice === 'existing' ? (
                <Field id="audience" label="Audience" error={p.errorOf('audienceId')}>
                  {(c) => (
                    <select {...c} value={audienceId} onChange={(e) => setAudienceId(e.target.value)}>
                      <option value="">{audiences === null ? 'Loading…' : 'Choose an audience'}</option>
                      {audiences?.map((a) => (
                        <option key={a.id} value={a.id} disabled={a.usedBy !== null}>
                          {a.name ?? a.id}
                          {a.sizeUpperBound !== undefined ? ` (up to ${n(a.sizeUpperBound)})` : ''}
                          {a.usedBy ? ` (used by ${a.usedBy.displayName})` : ''}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              ) : null}
              <label className="choice">
                <input
                  type="radio"
                  name="audience-choice"
                  checked={choice === 'new'}
                  onChange={() => setChoice('new')}
                />{' '}
                New custom audience
              </label>
              {choice === 'new' ? (
                <Field
                  id="new-audience-name"
                  label="Audience name"
                  error={p.errorOf('newAudienceName')}
                  hint="Created in the ad account at the first export."
                >
                  {(c) => (
                    <input
                      {...c}
                      maxLength={200}
                      value={newAudienceName}
                      onChange={(e) => setNewAudienceName(e.target.value)}
                    />
                  )}
                </Field>
              ) : null}
            </fieldset>

            {statement ? (
              <section aria-labelledby="statement-heading" className="statement">
                <h2 id="statement-heading">{statement.title}</h2>
                {statement.paragraphs.map((text) => (
                  <p key={text.slice(0, 40)}>{text}</p>
                ))}
                <p className="hint">Statement version {statement.version}.</p>
                <Field id="given-by" label="Agreed by (your name or work email)" error={p.errorOf('givenBy')}>
                  {(c) => <input {...c} value={givenBy} onChange={(e) => setGivenBy(e.target.value)} />}
                </Field>
                <label className="choice">
                  <input
                    type="checkbox"
                    checked={agreed}
                    aria-describedby={notAgreed ? 'agree-error' : undefined}
                    onChange={(e) => setAgreed(e.target.checked)}
                  />{' '}
                  I agree
                </label>
                <FieldError
                  id="agree-error"
                  error={
                    notAgreed && !agreed
                      ? 'Agree to the statement to export to Facebook.'
                      : p.errorOf('statementVersion')
                  }
                />
              </section>
            ) : null}

            <div className="actions">
              <button type="submit">Next</button>
            </div>
          </>
        ) : null}
      </form>
    </main>
  );
}
