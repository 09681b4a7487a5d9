import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { ApiError, del, get, onSessionLost, setCsrfToken } from './api/client';
import type { Session } from './api/types';
import { ErrorNote } from './components/ErrorNote';
import { DestinationsPage } from './pages/destinations/DestinationsPage';
import { EventDetailPage } from './pages/events/EventDetailPage';
import { EventsPage } from './pages/events/EventsPage';
import { IssuesPage } from './pages/issues/IssuesPage';
import { OverviewPage } from './pages/overview/OverviewPage';
import { SignInPage } from './pages/signin/SignInPage';
import { SourcesPage } from './pages/sources/SourcesPage';
import { Link, useRoute } from './router';

// The playground carries CodeMirror; it loads only when opened, keeping the first load small.
const PlaygroundPage = lazy(() => import('./pages/playground/PlaygroundPage'));

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/sources', label: 'Sources' },
  { to: '/destinations', label: 'Destinations' },
  { to: '/events', label: 'Events' },
  { to: '/playground', label: 'Mapping playground' },
  { to: '/issues', label: 'Issues' },
];

export function App() {
  const queryClient = useQueryClient();
  // undefined: not known yet; null: signed out. Kept in React state, not in the query cache, which sign-out clears.
  const [session, setSession] = useState<Session | null>();
  const [sessionError, setSessionError] = useState<unknown>();

  useEffect(() => {
    get<Session>('/api/session').then(
      (current) => setSession(current),
      (error) => {
        if (error instanceof ApiError && error.status === 401) setSession(null);
        else setSessionError(error);
      },
    );
  }, []);

  useEffect(() => {
    setCsrfToken(session?.csrfToken);
  }, [session]);

  useEffect(() => {
    onSessionLost(() => {
      setCsrfToken(undefined);
      setSession(null);
    });
  }, []);

  if (sessionError) {
    return (
      <main className="signin">
        <h1>Switchboard console</h1>
        <ErrorNote error={sessionError} />
      </main>
    );
  }
  if (session === undefined) return <p className="loading">Loading…</p>;
  if (session === null) {
    return (
      <SignInPage
        onSignedIn={(next) => {
          setCsrfToken(next.csrfToken);
          setSession(next);
        }}
      />
    );
  }
  return (
    <Shell
      onSignedOut={() => {
        setCsrfToken(undefined);
        setSession(null);
        queryClient.clear();
      }}
    />
  );
}

function Shell({ onSignedOut }: { onSignedOut: () => void }) {
  const route = useRoute();
  const heading = useRef<HTMLDivElement>(null);
  const [signOutError, setSignOutError] = useState<unknown>();

  useEffect(() => {
    // After a navigation, move focus to the main region so keyboard and screen-reader users start there.
    heading.current?.focus();
  }, [route.path]);

  const signOut = async () => {
    try {
      await del('/api/session');
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) {
        setSignOutError(error);
        return;
      }
    }
    onSignedOut();
  };

  const section = '/' + (route.path.split('/')[1] ?? '');
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Switchboard</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={section === item.to ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" className="signout" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <ErrorNote error={signOutError} />
      <main id="main" ref={heading} tabIndex={-1}>
        <Suspense fallback={<p className="loading">Loading the editor…</p>}>
          <Page path={route.path} query={route.query} />
        </Suspense>
      </main>
    </div>
  );
}

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const parts = path.split('/').filter(Boolean);
  switch (parts[0]) {
    case undefined:
      return <OverviewPage />;
    case 'sources':
      return <SourcesPage />;
    case 'destinations':
      return <DestinationsPage />;
    case 'events':
      return parts[1] ? <EventDetailPage id={decodeURIComponent(parts[1])} /> : <EventsPage query={query} />;
    case 'playground':
      return <PlaygroundPage query={query} />;
    case 'issues':
      return <IssuesPage focusId={parts[1] ? decodeURIComponent(parts[1]) : undefined} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no console page at {path}. <Link to="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}
