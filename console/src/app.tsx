import { useEffect, useState } from 'react';
import { onUnauthorized } from './api/client';
import { Link, navigate, useRoute } from './router';
import { DestinationList } from './screens/destination-list';
import { DestinationPage } from './screens/destination-page';
import { SetupConnection } from './screens/setup-connection';
import { SetupExport } from './screens/setup-export';
import { SignIn } from './screens/sign-in';
import { apiKey, signOut } from './session';

export function App() {
  const [signedIn, setSignedIn] = useState(() => apiKey() !== null);
  const route = useRoute();
  useEffect(
    () =>
      onUnauthorized(() => {
        signOut();
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <>
      <header className="top">
        <Link to={{ page: 'list' }} className="brand">
          audience-export
        </Link>
        <nav aria-label="Main">
          <Link to={{ page: 'list' }}>Destinations</Link>
          <a href="/docs">API docs</a>
          <button
            type="button"
            className="link"
            onClick={() => {
              signOut();
              setSignedIn(false);
              navigate({ page: 'list' });
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      {route.page === 'list' ? <DestinationList /> : null}
      {route.page === 'new' || route.page === 'setup' ? (
        <SetupConnection id={route.page === 'setup' ? route.id : undefined} />
      ) : null}
      {route.page === 'export-setup' ? <SetupExport key={route.id} id={route.id} /> : null}
      {route.page === 'destination' ? <DestinationPage key={route.id} id={route.id} /> : null}
    </>
  );
}
