import { useQuery } from '@tanstack/react-query';
import { FormEvent, useEffect, useState } from 'react';
import { get, qs } from '../../api/client';
import { useConnectors, useSources } from '../../api/queries';
import type { InboundEventSummary, Page } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime, StatusBadge } from '../../components/format';
import { CursorPager, useCursorPager } from '../../components/Pager';
import { Link, setQuery } from '../../router';

const FILTERS = [
  'status',
  'connector',
  'sourceId',
  'vendorEventType',
  'subject',
  'vendorEventId',
  'test',
  'from',
  'to',
];

/** The inbound log: filters live in the URL (shareable), pages follow the hub's cursor. */
export function EventsPage({ query }: { query: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((key) => [key, query.get(key) ?? '']));
  const pager = useCursorPager();
  const filterKey = JSON.stringify(filters);
  useEffect(() => pager.reset(), [filterKey]);
  const events = useQuery({
    queryKey: ['events', 'list', filters, pager.cursor],
    queryFn: () =>
      get<Page<InboundEventSummary>>(
        `/api/events${qs({
          ...filters,
          from: filters.from ? new Date(filters.from).toISOString() : undefined,
          to: filters.to ? new Date(filters.to).toISOString() : undefined,
          cursor: pager.cursor,
          limit: 25,
        })}`,
      ),
    refetchInterval: pager.page === 1 ? 5_000 : false,
  });
  const sources = useSources();
  const sourceName = new Map((sources.data ?? []).map((s) => [s.id, s.name]));
  return (
    <section>
      <h1>Events</h1>
      <EventFilters filters={filters} />
      <ErrorNote error={events.error} />
      <table className="log">
        <caption className="visually-hidden">Inbound events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Source</th>
            <th scope="col">Vendor event</th>
            <th scope="col">Status</th>
            <th scope="col">Event</th>
          </tr>
        </thead>
        <tbody>
          {events.data?.items.map((event) => (
            <tr key={event.id}>
              <td>{formatTime(event.receivedAt)}</td>
              <td>{sourceName.get(event.sourceId) ?? event.sourceId}</td>
              <td>
                {event.vendorEventType}
                {event.test && <span className="badge neutral">test</span>}
              </td>
              <td>
                <StatusBadge status={event.status} />
                {event.error && <span className="error-text"> {event.error}</span>}
              </td>
              <td>
                <Link to={`/events/${encodeURIComponent(event.id)}`}>{event.id}</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.data?.items.length === 0 && <p>No events match.</p>}
      <CursorPager pager={pager} nextCursor={events.data?.nextCursor} label="Events" />
    </section>
  );
}

function EventFilters({ filters }: { filters: Record<string, string> }) {
  const connectors = useConnectors();
  const sources = useSources();
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [JSON.stringify(filters)]);
  const set = (key: string) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setQuery(draft);
  };
  return (
    <form className="filters" onSubmit={apply} role="search" aria-label="Filter events">
      <label>
        Status
        <select value={draft.status} onChange={set('status')}>
          <option value="">any</option>
          <option value="received">received</option>
          <option value="normalized">normalized</option>
          <option value="failed">failed</option>
        </select>
      </label>
      <label>
        Connector
        <select value={draft.connector} onChange={set('connector')}>
          <option value="">any</option>
          {connectors.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Source
        <select value={draft.sourceId} onChange={set('sourceId')}>
          <option value="">any</option>
          {sources.data?.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Vendor event type
        <input value={draft.vendorEventType} onChange={set('vendorEventType')} />
      </label>
      <label>
        Subject
        <input value={draft.subject} onChange={set('subject')} placeholder="contact:asan:42" />
      </label>
      <label>
        Vendor event id
        <input value={draft.vendorEventId} onChange={set('vendorEventId')} />
      </label>
      <label>
        Test events
        <select value={draft.test} onChange={set('test')}>
          <option value="">included</option>
          <option value="false">real only</option>
          <option value="true">test only</option>
        </select>
      </label>
      <label>
        From
        <input type="datetime-local" value={draft.from} onChange={set('from')} />
      </label>
      <label>
        To
        <input type="datetime-local" value={draft.to} onChange={set('to')} />
      </label>
      <div className="actions">
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" onClick={() => setQuery(Object.fromEntries(FILTERS.map((k) => [k, undefined])))}>
          Clear
        </button>
      </div>
    </form>
  );
}
