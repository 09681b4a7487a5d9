import { useMutation } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { post } from '../../api/client';
import type { Session } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';

/**
 * The API key is sent once and never kept by the page (no localStorage, not even in memory after this): the
 * hub answers with an HttpOnly session cookie.
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [apiKey, setApiKey] = useState('');
  const signIn = useMutation({
    mutationFn: (key: string) => post<Session>('/api/session', { apiKey: key }),
    onSuccess: (session) => {
      setApiKey('');
      onSignedIn(session);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate(apiKey);
  };
  return (
    <main className="signin">
      <h1>Switchboard console</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="apiKey"
          type="password"
          autoComplete="current-password"
          required
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
          aria-invalid={signIn.isError || undefined}
          aria-describedby={signIn.isError ? 'signin-error' : undefined}
        />
        <p id="signin-help" className="muted">
          The management key: your <code>HUB_API_KEY</code>, or the one the hub printed once at first boot.
        </p>
        <button type="submit" className="primary" disabled={signIn.isPending || !apiKey}>
          {signIn.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={signIn.error} id="signin-error" />
      </form>
    </main>
  );
}
