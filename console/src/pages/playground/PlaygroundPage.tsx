import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useEffect, useMemo, useState } from 'react';
import { ApiError, del, enc, get, post, put, qs } from '../../api/client';
import { useConnectors } from '../../api/queries';
import type {
  DryRunResult,
  InboundEventDetail,
  InboundEventSummary,
  MappingDetail,
  Page,
  Sample,
} from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime, pretty } from '../../components/format';
import { ListPager, usePaged } from '../../components/Pager';
import { Link, setQuery } from '../../router';
import { lineDiff } from './line-diff';
import { LivePreview, MappingErrors } from './LivePreview';
import { EditorProblem, MappingEditor } from './MappingEditor';
import { useDebouncedPreview } from './preview';

/**
 * Mapping playground: expression | input (a sample, or a recent real event, failed ones included) | live output
 * with validation errors. Dry-run over real events, save a version with a comment, diff and restore versions.
 */
export default function PlaygroundPage({ query }: { query: URLSearchParams }) {
  const connectors = useConnectors();
  const connectorId = query.get('connector') ?? '';
  const eventType = query.get('eventType') ?? '';
  const connector = connectors.data?.find((c) => c.id === connectorId);
  return (
    <section className="playground">
      <h1>Mapping playground</h1>
      <form className="filters" aria-label="Mapping to edit" onSubmit={(e) => e.preventDefault()}>
        <label>
          Connector
          <select
            value={connectorId}
            onChange={(e) => setQuery({ connector: e.target.value, eventType: undefined, event: undefined })}
          >
            <option value="">Pick a connector…</option>
            {connectors.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Event type
          <select
            value={eventType}
            onChange={(e) => setQuery({ eventType: e.target.value, event: undefined })}
            disabled={!connector}
          >
            <option value="">Pick an event type…</option>
            {connector?.events.map((e) => (
              <option key={e.type} value={e.type}>
                {e.type}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={connectors.error} />
      {connectorId && eventType && (
        <Workbench
          key={`${connectorId}/${eventType}`}
          connector={connectorId}
          eventType={eventType}
          eventId={query.get('event') ?? undefined}
        />
      )}
    </section>
  );
}

type InputChoice = { kind: 'sample'; name: string } | { kind: 'event'; id: string };

function Workbench({ connector, eventType, eventId }: { connector: string; eventType: string; eventId?: string }) {
  const queryClient = useQueryClient();
  const path = `/api/mappings/${enc(connector)}/${enc(eventType)}`;
  const mapping = useQuery({ queryKey: ['mapping', connector, eventType], queryFn: () => get<MappingDetail>(path) });
  const samples = useQuery({
    queryKey: ['samples', connector],
    queryFn: () => get<Sample[]>(`/api/connectors/${enc(connector)}/samples`),
  });
  const recent = useQuery({
    queryKey: ['events', 'recent', connector, eventType],
    queryFn: () =>
      get<Page<InboundEventSummary>>(`/api/events${qs({ connector, vendorEventType: eventType, limit: 20 })}`),
  });
  const [expression, setExpression] = useState<string>();
  const [choice, setChoice] = useState<InputChoice | undefined>(eventId ? { kind: 'event', id: eventId } : undefined);

  useEffect(() => {
    if (mapping.data && expression === undefined) setExpression(mapping.data.expression);
  }, [mapping.data, expression]);

  const typeSamples = useMemo(
    () => (samples.data ?? []).filter((s) => s.event === eventType),
    [samples.data, eventType],
  );
  useEffect(() => {
    if (!choice && typeSamples[0]) setChoice({ kind: 'sample', name: typeSamples[0].name });
  }, [choice, typeSamples]);

  const sample = choice?.kind === 'sample' ? typeSamples.find((s) => s.name === choice.name) : undefined;
  const chosenEvent = useQuery({
    queryKey: ['events', choice?.kind === 'event' ? choice.id : ''],
    queryFn: () => get<InboundEventDetail>(`/api/events/${enc((choice as { id: string }).id)}`),
    enabled: choice?.kind === 'event',
  });

  const previewInput =
    expression === undefined || !choice || (choice.kind === 'sample' && !sample)
      ? undefined
      : {
          connector,
          eventType,
          expression,
          ...(choice.kind === 'sample' ? { payload: sample!.payload } : { inboundEventId: choice.id }),
        };
  const preview = useDebouncedPreview(previewInput);
  const problem: EditorProblem | undefined =
    preview.state === 'error' && preview.position !== undefined
      ? { position: preview.position, message: preview.error.message }
      : undefined;

  const refreshMapping = () => queryClient.invalidateQueries({ queryKey: ['mapping', connector, eventType] });
  const inputValue = choice ? (choice.kind === 'sample' ? `sample:${choice.name}` : `event:${choice.id}`) : '';
  const failedRecent = recent.data?.items ?? [];
  const choiceInRecent = choice?.kind === 'event' && failedRecent.some((e) => e.id === choice.id);

  return (
    <>
      <p className="muted">
        In effect: <code>{mapping.data?.version ?? '…'}</code> ({mapping.data?.origin ?? '…'})
      </p>
      <ErrorNote error={mapping.error ?? samples.error ?? recent.error} />
      <div className="columns">
        <div className="column">
          <h2 id="expression-label">Expression</h2>
          {expression !== undefined && (
            <MappingEditor
              value={expression}
              onChange={setExpression}
              problem={problem}
              labelledBy="expression-label"
            />
          )}
        </div>
        <div className="column">
          <h2>
            <label htmlFor="input-choice">Input</label>
          </h2>
          <select
            id="input-choice"
            value={inputValue}
            onChange={(e) => {
              const [kind, ...rest] = e.target.value.split(':');
              const value = rest.join(':');
              setChoice(kind === 'sample' ? { kind: 'sample', name: value } : { kind: 'event', id: value });
            }}
          >
            <optgroup label="Samples">
              {typeSamples.map((s) => (
                <option key={s.name} value={`sample:${s.name}`}>
                  {s.name}
                </option>
              ))}
            </optgroup>
            <optgroup label="Recent real events">
              {choice?.kind === 'event' && !choiceInRecent && <option value={`event:${choice.id}`}>{choice.id}</option>}
              {failedRecent.map((e) => (
                <option key={e.id} value={`event:${e.id}`}>
                  {e.status === 'failed' ? '✗ failed' : e.status} · {formatTime(e.receivedAt)} · {e.id}
                </option>
              ))}
            </optgroup>
          </select>
          {choice?.kind === 'event' && chosenEvent.data?.error && (
            <p className="error-text">Stored failure: {chosenEvent.data.error}</p>
          )}
          <ErrorNote error={chosenEvent.error} />
          <pre className="input" tabIndex={0} aria-label="Input payload">
            {choice?.kind === 'sample'
              ? pretty(sample?.payload ?? '')
              : chosenEvent.data
                ? pretty(chosenEvent.data.payload)
                : ''}
          </pre>
        </div>
        <div className="column">
          <h2>Output</h2>
          <LivePreview preview={preview} />
        </div>
      </div>
      {expression !== undefined && (
        <>
          <DryRun path={path} expression={expression} />
          <SaveVersion path={path} expression={expression} onSaved={() => void refreshMapping()} />
        </>
      )}
      {mapping.data && (
        <VersionHistory
          path={path}
          mapping={mapping.data}
          current={expression ?? ''}
          onRestored={(restored) => {
            setExpression(restored);
            void refreshMapping();
          }}
        />
      )}
      <p>
        <Link to={`/events?connector=${enc(connector)}&vendorEventType=${enc(eventType)}`}>Events of this type</Link>
      </p>
    </>
  );
}

function DryRun({ path, expression }: { path: string; expression: string }) {
  const [limit, setLimit] = useState(50);
  const run = useMutation({
    mutationFn: () => post<DryRunResult>(`${path}/dry-run`, { expression, limit }),
  });
  const paged = usePaged(run.data?.events, 10);
  const compileError = run.error instanceof ApiError ? run.error.body.details?.position : undefined;
  return (
    <section className="panel" aria-labelledby="dry-run">
      <h2 id="dry-run">Dry-run</h2>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          run.mutate();
        }}
      >
        <label>
          Newest events
          <input type="number" min={1} max={1000} value={limit} onChange={(e) => setLimit(Number(e.target.value))} />
        </label>
        <button type="submit" disabled={run.isPending}>
          {run.isPending ? 'Running…' : 'Dry-run'}
        </button>
      </form>
      {run.isPending && <progress aria-label="Dry-run running" />}
      <ErrorNote error={run.error} />
      {typeof compileError === 'number' && (
        <p className="muted">See the error at character {compileError} in the editor.</p>
      )}
      {run.data && (
        <>
          <p role="status" className="counts">
            {run.data.total} events: <strong className="good-text">{run.data.passed} pass</strong>,{' '}
            <strong className="bad-text">{run.data.failed} fail</strong>; {run.data.changed} changed,{' '}
            {run.data.unchanged} unchanged.
          </p>
          <table className="log">
            <caption className="visually-hidden">Dry-run per event</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Result</th>
                <th scope="col">Diff against the stored output</th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((event) => (
                <tr key={event.inboundEventId}>
                  <td>
                    <Link to={`/events/${enc(event.inboundEventId)}`}>{event.inboundEventId}</Link>
                    <div className="muted">{formatTime(event.receivedAt)}</div>
                  </td>
                  <td>
                    {event.ok ? <span className="badge good">pass</span> : <span className="badge bad">fail</span>}
                  </td>
                  <td>
                    {event.error && <MappingErrors errors={[event.error]} />}
                    {!event.stored && event.ok && <span className="muted">no stored output (it had failed)</span>}
                    {event.diff.length > 0 && (
                      <ul className="diff">
                        {event.diff.map((d) => (
                          <li key={d.path}>
                            <code>{d.path}</code>: <del>{d.before === undefined ? '∅' : JSON.stringify(d.before)}</del>{' '}
                            → <ins>{d.after === undefined ? '∅' : JSON.stringify(d.after)}</ins>
                          </li>
                        ))}
                      </ul>
                    )}
                    {event.ok && event.stored && event.diff.length === 0 && <span className="muted">unchanged</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <ListPager paged={paged} label="Dry-run results" />
        </>
      )}
    </section>
  );
}

function SaveVersion({ path, expression, onSaved }: { path: string; expression: string; onSaved: () => void }) {
  const [comment, setComment] = useState('');
  const save = useMutation({
    mutationFn: () => put<MappingDetail>(path, { expression, ...(comment ? { comment } : {}) }),
    onSuccess: () => {
      setComment('');
      onSaved();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="save-version">
      <h2 id="save-version">Save a new version</h2>
      <label>
        Comment
        <input
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          maxLength={500}
          placeholder="What changed and why"
        />
      </label>
      <button type="submit" className="primary" disabled={save.isPending}>
        {save.isPending ? 'Saving…' : 'Save version'}
      </button>
      <ErrorNote error={save.error} />
      {save.error instanceof ApiError && Array.isArray(save.error.body.details?.problems) && (
        <pre>{pretty(save.error.body.details?.problems)}</pre>
      )}
      {save.data && (
        <p role="status">
          Saved: <code>{save.data.version}</code> is in effect. Failed events of this type can now be re-normalised from{' '}
          <Link to="/issues">Issues</Link>.
        </p>
      )}
    </form>
  );
}

function VersionHistory({
  path,
  mapping,
  current,
  onRestored,
}: {
  path: string;
  mapping: MappingDetail;
  current: string;
  onRestored: (expression: string) => void;
}) {
  const [diffOf, setDiffOf] = useState<number>();
  const restore = useMutation({
    mutationFn: (version: number) => post<MappingDetail>(`${path}/versions/${version}/restore`),
    onSuccess: (detail) => onRestored(detail.expression),
  });
  const revert = useMutation({
    mutationFn: () => del<MappingDetail>(path),
    onSuccess: (detail) => onRestored(detail.expression),
  });
  const versions = [...mapping.versions].sort((a, b) => b.version - a.version);
  const paged = usePaged(versions, 10);
  const shown = versions.find((v) => v.version === diffOf);
  return (
    <section className="panel" aria-labelledby="history">
      <h2 id="history">Version history</h2>
      {versions.length === 0 && <p>No stored versions: the file mapping is in effect.</p>}
      <ol className="versions">
        {paged.items.map((v) => (
          <li key={v.version}>
            <strong>v{v.version}</strong> {v.active && <span className="badge good">in effect</span>}{' '}
            <span className="muted">{formatTime(v.createdAt)}</span> {v.comment ?? <em>no comment</em>}{' '}
            <button
              type="button"
              onClick={() => setDiffOf(diffOf === v.version ? undefined : v.version)}
              aria-expanded={diffOf === v.version}
            >
              {diffOf === v.version ? 'Hide diff' : 'Diff with the editor'}
            </button>
            {!v.active && (
              <ConfirmButton
                label="Restore"
                title={`Restore version ${v.version}?`}
                confirmLabel="Restore"
                onConfirm={() => restore.mutate(v.version)}
              >
                <p>Version {v.version} goes back in effect for every new event at once.</p>
              </ConfirmButton>
            )}
          </li>
        ))}
      </ol>
      <ListPager paged={paged} label="Versions" />
      {mapping.origin === 'override' && (
        <ConfirmButton
          label="Revert to the file"
          title="Revert to the file mapping?"
          confirmLabel="Revert"
          onConfirm={() => revert.mutate()}
        >
          <p>The mapping file in the release goes back in effect; stored versions stay.</p>
        </ConfirmButton>
      )}
      <ErrorNote error={restore.error ?? revert.error} />
      {shown && (
        <div className="line-diff" aria-label={`Diff of version ${shown.version} against the editor`}>
          <p className="muted">− version {shown.version}, + editor</p>
          <pre tabIndex={0}>
            {lineDiff(shown.expression, current).map((line, i) => (
              <div key={i} className={line.kind}>
                {line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '− ' : '  '}
                {line.text}
              </div>
            ))}
          </pre>
        </div>
      )}
    </section>
  );
}
