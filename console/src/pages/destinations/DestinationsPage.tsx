import { useMutation, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { del, enc, patch, post } from '../../api/client';
import { useDestinations } from '../../api/queries';
import type { Destination } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { CopyButton } from '../../components/CopyButton';
import { ErrorNote } from '../../components/ErrorNote';
import { formatPercent, formatTime, StatusBadge } from '../../components/format';
import { ListPager, usePaged } from '../../components/Pager';
import { Link } from '../../router';

const TYPES = [
  { id: 'webhook', label: 'Webhook (signed Standard Webhooks CloudEvents)' },
  { id: 'hubspot', label: 'HubSpot' },
  { id: 'salesforce', label: 'Salesforce' },
  { id: 'pipedrive', label: 'Pipedrive' },
];

export function DestinationsPage() {
  const destinations = useDestinations({ live: true });
  const paged = usePaged(destinations.data, 10);
  return (
    <section>
      <h1>Destinations</h1>
      <CreateDestination />
      <h2>All destinations</h2>
      <ErrorNote error={destinations.error} />
      {destinations.data?.length === 0 && <p>No destinations yet: create one above.</p>}
      <ul className="cards">
        {paged.items.map((d) => (
          <DestinationCard key={d.id} destination={d} />
        ))}
      </ul>
      <ListPager paged={paged} label="Destinations" />
    </section>
  );
}

/** A secret the hub shows exactly once (create, rotate): copy it now. */
function SecretOnce({ secret, what }: { secret: string; what: string }) {
  return (
    <div className="secret-once" role="status">
      <p>
        <strong>{what}</strong> It is shown only now; store it where the receiver verifies signatures.
      </p>
      <code className="secret">{secret}</code> <CopyButton value={secret} label="Copy secret" />
    </div>
  );
}

function CreateDestination() {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    name: '',
    type: 'webhook',
    url: '',
    eventTypes: '*',
    includeTest: false,
    token: '',
    baseUrl: '',
  });
  const set = (key: keyof typeof form) => (value: string | boolean) => setForm((f) => ({ ...f, [key]: value }));
  const create = useMutation({
    mutationFn: () => {
      const crm = form.type !== 'webhook';
      const config: Record<string, string> = {};
      if (crm && form.token) config.token = form.token;
      if (crm && form.baseUrl) config[form.type === 'salesforce' ? 'instanceUrl' : 'baseUrl'] = form.baseUrl;
      return post<Destination>('/api/destinations', {
        name: form.name,
        type: form.type,
        ...(crm ? { config } : { url: form.url }),
        eventTypes: form.eventTypes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        includeTest: form.includeTest,
      });
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['destinations'] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const crm = form.type !== 'webhook';
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="create-destination">
      <h2 id="create-destination">Create a destination</h2>
      <div className="fields">
        <label>
          Type
          <select value={form.type} onChange={(e) => set('type')(e.target.value)}>
            {TYPES.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input value={form.name} onChange={(e) => set('name')(e.target.value)} required maxLength={200} />
        </label>
        {!crm && (
          <label>
            Receiver URL
            <input type="url" value={form.url} onChange={(e) => set('url')(e.target.value)} required />
          </label>
        )}
        {crm && (
          <>
            <label>
              API token
              <input
                type="password"
                autoComplete="off"
                value={form.token}
                onChange={(e) => set('token')(e.target.value)}
              />
            </label>
            <label>
              {form.type === 'salesforce' ? 'Instance URL (your My Domain)' : 'Base URL (optional)'}
              <input
                type="url"
                value={form.baseUrl}
                onChange={(e) => set('baseUrl')(e.target.value)}
                required={form.type === 'salesforce'}
              />
            </label>
          </>
        )}
        <label>
          Event types
          <input
            value={form.eventTypes}
            onChange={(e) => set('eventTypes')(e.target.value)}
            aria-describedby="event-types-help"
            required
          />
          <span id="event-types-help" className="hint">
            Comma-separated canonical types or globs, e.g. <code>activity.*, contact.*</code>; <code>*</code> for all.
          </span>
        </label>
        <label className="check">
          <input type="checkbox" checked={form.includeTest} onChange={(e) => set('includeTest')(e.target.checked)} />
          Include test events
        </label>
      </div>
      <button type="submit" className="primary" disabled={create.isPending}>
        {create.isPending ? 'Creating…' : 'Create destination'}
      </button>
      <ErrorNote error={create.error} />
      {create.data?.secret && (
        <SecretOnce secret={create.data.secret} what={`Created ${create.data.name}. Its signing secret:`} />
      )}
    </form>
  );
}

function DestinationCard({ destination: d }: { destination: Destination }) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['destinations'] });
  const rotate = useMutation({
    mutationFn: () => post<Destination>(`/api/destinations/${enc(d.id)}/rotate-secret`),
    onSuccess: refresh,
  });
  const setStatus = useMutation({
    mutationFn: (status: 'active' | 'disabled') =>
      patch<Destination & { missed?: { count: number; since: string } }>(`/api/destinations/${enc(d.id)}`, {
        enabled: status === 'active',
      }),
    onSuccess: refresh,
  });
  const replayMissed = useMutation({
    mutationFn: () => post<{ count: number }>(`/api/destinations/${enc(d.id)}/replay-missed`),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: () => del(`/api/destinations/${enc(d.id)}`), onSuccess: refresh });
  const disabled = d.status === 'disabled' || d.enabled === false;
  const missed = setStatus.data?.missed;
  const health = d.health;
  return (
    <li className="card" aria-labelledby={`destination-${d.id}`}>
      <h3 id={`destination-${d.id}`}>
        {d.name} <span className="muted">{d.type}</span> <StatusBadge status={disabled ? 'disabled' : 'active'} />
      </h3>
      <p className="muted">
        {d.url ?? (d.configSecrets?.length ? `config secrets set: ${d.configSecrets.join(', ')}` : '')} · types{' '}
        {d.eventTypes.join(', ')}
        {d.includeTest && ' · test events'}
      </p>
      {disabled && d.disabledReason && (
        <p className="warning">
          Disabled{d.disabledAt ? ` since ${formatTime(d.disabledAt)}` : ''}: {d.disabledReason}
        </p>
      )}
      {health ? (
        <dl className="health">
          <div>
            <dt>Success rate (24 h)</dt>
            <dd>{formatPercent(health.successRate)}</dd>
          </div>
          <div>
            <dt>Delivered / failed (24 h)</dt>
            <dd>
              {health.delivered24h} / {health.failed24h}
            </dd>
          </div>
          <div>
            <dt>Backlog</dt>
            <dd>{health.backlog}</dd>
          </div>
          <div>
            <dt>Last success</dt>
            <dd>{formatTime(health.lastSuccessAt)}</dd>
          </div>
          <div>
            <dt>Last error</dt>
            <dd>{health.lastError ?? '—'}</dd>
          </div>
        </dl>
      ) : (
        <p className="muted">No health figures from the hub yet.</p>
      )}
      <div className="actions">
        <Link to={`/issues`}>Issues</Link>
        {d.type === 'webhook' && (
          <ConfirmButton
            label="Rotate secret"
            title={`Rotate the signing secret of ${d.name}?`}
            confirmLabel="Rotate secret"
            onConfirm={() => rotate.mutate()}
          >
            <p>A new secret signs from now on; the old one keeps signing too for 24 hours, so update the receiver.</p>
          </ConfirmButton>
        )}
        {disabled ? (
          <button type="button" onClick={() => setStatus.mutate('active')} disabled={setStatus.isPending}>
            Enable
          </button>
        ) : (
          <ConfirmButton
            label="Disable"
            title={`Disable ${d.name}?`}
            confirmLabel="Disable"
            onConfirm={() => setStatus.mutate('disabled')}
          >
            <p>It receives nothing until enabled again.</p>
          </ConfirmButton>
        )}
        <ConfirmButton
          label="Delete"
          title={`Delete ${d.name}?`}
          confirmLabel="Delete destination"
          onConfirm={() => remove.mutate()}
        >
          <p>It receives nothing more. Its deliveries and attempts stay readable.</p>
        </ConfirmButton>
      </div>
      <ErrorNote error={rotate.error ?? setStatus.error ?? remove.error ?? replayMissed.error} />
      {rotate.data?.secret && <SecretOnce secret={rotate.data.secret} what="New signing secret:" />}
      {missed && missed.count > 0 && !replayMissed.data && (
        <div className="panel" role="status">
          {missed.count} event(s) arrived while it was disabled (since {formatTime(missed.since)}).{' '}
          <ConfirmButton
            label={`Replay ${missed.count} missed`}
            title={`Replay ${missed.count} missed event(s) to ${d.name}?`}
            confirmLabel="Replay"
            danger={false}
            onConfirm={() => replayMissed.mutate()}
          >
            <p>Each gets a new delivery to this destination.</p>
          </ConfirmButton>
        </div>
      )}
      {replayMissed.data && <p role="status">Queued {replayMissed.data.count} deliveries.</p>}
    </li>
  );
}
