import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { del, enc, get, post } from '../../api/client';
import { useConnectors, useSources } from '../../api/queries';
import type { Connector, InboundEventDetail, Source } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { CopyButton } from '../../components/CopyButton';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime, StatusBadge } from '../../components/format';
import { ListPager, usePaged } from '../../components/Pager';
import { Link } from '../../router';

export function SourcesPage() {
  const sources = useSources();
  const connectors = useConnectors();
  const paged = usePaged(sources.data, 10);
  const [created, setCreated] = useState<string>();
  const byId = new Map((connectors.data ?? []).map((c) => [c.id, c]));
  return (
    <section>
      <h1>Sources</h1>
      <p className="muted">A source is one hub URL a vendor posts its webhooks to.</p>
      <CreateSource connectors={connectors.data} onCreated={setCreated} />
      <h2>All sources</h2>
      <ErrorNote error={sources.error ?? connectors.error} />
      {sources.data?.length === 0 && <p>No sources yet: create one above.</p>}
      <ul className="cards">
        {paged.items.map((source) => (
          <SourceCard
            key={source.id}
            source={source}
            connector={byId.get(source.connector)}
            expanded={source.id === created}
          />
        ))}
      </ul>
      <ListPager paged={paged} label="Sources" />
    </section>
  );
}

function CreateSource({ connectors, onCreated }: { connectors?: Connector[]; onCreated: (id: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [connectorId, setConnectorId] = useState('');
  const [secret, setSecret] = useState('');
  const connector = connectors?.find((c) => c.id === connectorId);
  const create = useMutation({
    mutationFn: () =>
      post<Source>('/api/sources', {
        name,
        connector: connectorId,
        ...(secret ? { secrets: [secret] } : {}),
      }),
    onSuccess: async (source) => {
      setName('');
      setSecret('');
      onCreated(source.id);
      await queryClient.invalidateQueries({ queryKey: ['sources'] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="create-source">
      <h2 id="create-source">Create a source</h2>
      <div className="fields">
        <label>
          Connector
          <select value={connectorId} onChange={(e) => setConnectorId(e.target.value)} required>
            <option value="">Pick a vendor…</option>
            {connectors?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        {connector?.verification.secretsRequired && (
          <label>
            Secret
            <input
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              aria-describedby="secret-help"
            />
            <span id="secret-help" className="hint">
              {connector.setup.secret ?? connector.verification.secretFormat} You can also add it later.
            </span>
          </label>
        )}
      </div>
      {connector && <SetupText connector={connector} />}
      <button type="submit" className="primary" disabled={create.isPending}>
        {create.isPending ? 'Creating…' : 'Create source'}
      </button>
      <ErrorNote error={create.error} />
    </form>
  );
}

function SetupText({ connector, url }: { connector: Connector; url?: string }) {
  return (
    <div className="setup">
      <h3>Set up {connector.name}</h3>
      <p>
        In <strong>{connector.setup.where}</strong>:
      </p>
      <ol>
        {connector.setup.steps.map((step) => (
          <li key={step}>{step}</li>
        ))}
      </ol>
      {connector.setup.secret && (
        <p>
          <strong>Secret:</strong> {connector.setup.secret}
        </p>
      )}
      {connector.verification.headers.length > 0 && (
        <p className="muted">The hub checks the headers {connector.verification.headers.join(', ')}.</p>
      )}
      {url && <p className="muted">The source URL is {url}.</p>}
    </div>
  );
}

function SourceCard({ source, connector, expanded }: { source: Source; connector?: Connector; expanded: boolean }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => del(`/api/sources/${enc(source.id)}`),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['sources'] }),
  });
  return (
    <li className="card" aria-labelledby={`source-${source.id}`}>
      <h3 id={`source-${source.id}`}>
        {source.name} <span className="muted">{connector?.name ?? source.connector}</span>{' '}
        <StatusBadge status={source.enabled ? 'active' : 'disabled'} />
      </h3>
      <p className="url">
        <label>
          Hub URL
          <input readOnly value={source.url} onFocus={(e) => e.currentTarget.select()} />
        </label>
        <CopyButton value={source.url} label="Copy URL" />
      </p>
      <p className="muted">
        {source.effectiveVerification.scheme}
        {source.effectiveVerification.secretsRequired && `, ${source.secretsConfigured} secret(s) set`} · created{' '}
        {formatTime(source.createdAt)} · <Link to={`/events?sourceId=${enc(source.id)}`}>Events</Link>
      </p>
      <details open={expanded}>
        <summary>Setup instructions and a test event</summary>
        {connector && <SetupText connector={connector} url={source.url} />}
        {connector && <TestEvent source={source} connector={connector} />}
      </details>
      <ConfirmButton
        label="Delete source"
        title={`Delete ${source.name}?`}
        confirmLabel="Delete source"
        onConfirm={() => remove.mutate()}
      >
        <p>It stops accepting webhooks at once ({source.url} answers 404). Its events and deliveries stay readable.</p>
      </ConfirmButton>
      <ErrorNote error={remove.error} />
    </li>
  );
}

/** Runs the connector's sample through the whole pipeline and shows what became of it, inline. */
function TestEvent({ source, connector }: { source: Source; connector: Connector }) {
  const [eventType, setEventType] = useState(connector.events[0]?.type ?? '');
  const send = useMutation({
    mutationFn: () => post<{ id: string }>(`/api/sources/${enc(source.id)}/test`, { event: eventType }),
  });
  const id = send.data?.id;
  const result = useQuery({
    queryKey: ['events', id],
    queryFn: () => get<InboundEventDetail>(`/api/events/${enc(id!)}`),
    enabled: !!id,
    refetchInterval: (query) => (query.state.data && query.state.data.status !== 'received' ? false : 500),
  });
  return (
    <div className="test-event">
      <label>
        Vendor event
        <select value={eventType} onChange={(e) => setEventType(e.target.value)}>
          {connector.events.map((e) => (
            <option key={e.type} value={e.type}>
              {e.type}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => send.mutate()} disabled={send.isPending}>
        {send.isPending ? 'Sending…' : 'Send a test event'}
      </button>
      <ErrorNote error={send.error ?? result.error} />
      <div role="status" aria-live="polite" className="test-result">
        {id && !result.data && 'Sent; waiting for the pipeline…'}
        {result.data && (
          <>
            Test event <Link to={`/events/${enc(result.data.id)}`}>{result.data.id}</Link>:{' '}
            <StatusBadge status={result.data.status} />
            {result.data.status === 'received' && ' (normalising…)'}
            {result.data.status === 'normalized' &&
              ` → ${result.data.canonical.map((c) => c.type).join(', ')}; ${result.data.deliveries.length} delivery(ies) (destinations get test events only with "include test events")`}
            {result.data.error && ` ${result.data.error}`}
          </>
        )}
      </div>
    </div>
  );
}
