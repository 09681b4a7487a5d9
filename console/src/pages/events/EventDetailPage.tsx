import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { enc, get, post } from '../../api/client';
import { useDestinations } from '../../api/queries';
import type { Delivery, InboundEventDetail } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime, pretty, StatusBadge } from '../../components/format';
import { Link } from '../../router';

export function EventDetailPage({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const event = useQuery({
    queryKey: ['events', id],
    queryFn: () => get<InboundEventDetail>(`/api/events/${enc(id)}`),
    refetchInterval: 3_000,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['events', id] });
  const replay = useMutation({
    mutationFn: () => post<{ replayed: number }>(`/api/events/${enc(id)}/replay`),
    onSuccess: refresh,
  });
  const renormalize = useMutation({
    mutationFn: () => post<{ status: string }>(`/api/events/${enc(id)}/renormalize`),
    onSuccess: refresh,
  });
  const data = event.data;
  return (
    <section>
      <p>
        <Link to="/events">← Events</Link>
      </p>
      <h1>Event {id}</h1>
      <ErrorNote error={event.error} />
      {data && (
        <>
          <p>
            {data.connector ?? ''} <strong>{data.vendorEventType}</strong> <StatusBadge status={data.status} />
            {data.test && <span className="badge neutral">test</span>}
          </p>
          <div className="actions">
            <ConfirmButton
              label="Replay"
              title="Replay this event?"
              confirmLabel="Replay"
              danger={false}
              onConfirm={() => replay.mutate()}
            >
              <p>Its current canonical events are delivered again to every matching destination.</p>
            </ConfirmButton>
            <ConfirmButton
              label="Re-normalise"
              title="Re-normalise this event?"
              confirmLabel="Re-normalise"
              danger={false}
              onConfirm={() => renormalize.mutate()}
            >
              <p>The mapping in effect runs on it again; a changed output is a new revision, delivered anew.</p>
            </ConfirmButton>
            {data.connector && (
              <Link
                className="button"
                to={`/playground?connector=${enc(data.connector)}&eventType=${enc(data.vendorEventType)}&event=${enc(data.id)}`}
              >
                Open in the mapping playground
              </Link>
            )}
          </div>
          <ErrorNote error={replay.error ?? renormalize.error} />
          <div role="status" aria-live="polite">
            {replay.data && `Replayed: ${replay.data.replayed} delivery(ies) queued.`}
            {renormalize.data && `Re-normalised: ${renormalize.data.status}.`}
          </div>
          <h2>Timeline</h2>
          <Timeline event={data} />
          <details>
            <summary>Payload ({data.payloadFormat})</summary>
            <pre tabIndex={0}>{pretty(data.payload)}</pre>
          </details>
          <details>
            <summary>Headers</summary>
            <pre tabIndex={0}>{pretty(data.headers)}</pre>
          </details>
          <details>
            <summary>Canonical events ({data.canonical.length})</summary>
            <pre tabIndex={0}>{pretty(data.canonical)}</pre>
          </details>
        </>
      )}
    </section>
  );
}

/** received → verified → normalised (mapping version) → each delivery with every attempt. */
export function Timeline({ event }: { event: InboundEventDetail }) {
  const destinations = useDestinations();
  const names = new Map((destinations.data ?? []).map((d) => [d.id, d.name]));
  const revisions = event.revisions ?? [];
  const byEvent = new Map<string, Delivery[]>();
  for (const delivery of event.deliveries) {
    byEvent.set(delivery.canonicalEventId, [...(byEvent.get(delivery.canonicalEventId) ?? []), delivery]);
  }
  return (
    <ol className="timeline">
      <li>
        <h3>Received</h3>
        <p>{formatTime(event.receivedAt)}</p>
      </li>
      <li>
        <h3>Verified</h3>
        <p>{event.verification ? `${event.verification.scheme}: accepted` : 'accepted'}</p>
      </li>
      {revisions.map((revision) => (
        <li key={revision.revision}>
          <h3>Normalised{revision.revision > 0 ? ` (revision ${revision.revision})` : ''}</h3>
          <p>
            {formatTime(revision.normalizedAt)} · mapping <code>{revision.mappingVersion ?? 'unrecorded'}</code> ·{' '}
            {event.canonical
              .filter((c) => c.revision === revision.revision)
              .map((c) => c.type)
              .join(', ')}
          </p>
        </li>
      ))}
      {event.status === 'failed' && (
        <li className="failed">
          <h3>Normalisation failed</h3>
          <p className="error-text">{event.error}</p>
        </li>
      )}
      {event.status === 'received' && (
        <li>
          <h3>Waiting for normalisation</h3>
        </li>
      )}
      {event.deliveries.map((delivery) => (
        <li key={delivery.id}>
          <h3>
            Delivery to {names.get(delivery.destinationId) ?? delivery.destinationId}{' '}
            <StatusBadge status={delivery.status} />
          </h3>
          <p className="muted">
            {delivery.id} · {delivery.attempts} attempt(s)
            {delivery.nextAttemptAt && ` · next at ${formatTime(delivery.nextAttemptAt)}`}
          </p>
          {delivery.attempts_log && delivery.attempts_log.length > 0 && (
            <table className="attempts">
              <caption className="visually-hidden">Attempts of delivery {delivery.id}</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Started</th>
                  <th scope="col">Status</th>
                  <th scope="col">Time</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Response</th>
                </tr>
              </thead>
              <tbody>
                {delivery.attempts_log.map((attempt) => (
                  <tr key={attempt.attempt}>
                    <td>{attempt.attempt}</td>
                    <td>{formatTime(attempt.startedAt)}</td>
                    <td>{attempt.statusCode ?? '—'}</td>
                    <td>{attempt.durationMs === null ? '—' : `${attempt.durationMs} ms`}</td>
                    <td>
                      {attempt.outcome}
                      {attempt.error && <span className="error-text"> {attempt.error}</span>}
                    </td>
                    <td>
                      <code className="response">{attempt.responseBody ?? ''}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </li>
      ))}
    </ol>
  );
}
