import { useState, type FormEvent } from 'react';
import { api, call } from '../api/client';
import { Field, ProblemAlert, useProblem } from '../components/field';
import { signIn, signOut } from '../session';

/** Sign in with an API key (one of API_KEYS; `start` prints a link that signs in at once). */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const p = useProblem();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    signIn(key);
    const ok = await p.run(() => call(api.GET('/destinations', { params: { query: { limit: 1 } } })));
    if (ok) onSignedIn();
    else signOut();
  };
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      <p>Use an API key of this service. It is kept in this browser tab only, until you close it or sign out.</p>
      <ProblemAlert problem={p.problem} />
      <form onSubmit={(e) => void submit(e)}>
        <Field id="api-key" label="API key" error={p.errorOf('headers.authorization')}>
          {(c) => (
            <input
              {...c}
              type="password"
              autoComplete="current-password"
              required
              value={key}
              onChange={(e) => setKey(e.target.value)}
            />
          )}
        </Field>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
