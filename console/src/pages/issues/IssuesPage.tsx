import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError, enc, get, post } from '../../api/client';
import { useIssues } from '../../api/queries';
import type { IssueGroup } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime } from '../../components/format';
import { ListPager, usePaged } from '../../components/Pager';
import { Link } from '../../router';

/** Grouped failures, each with its bulk action (retry or re-normalise), a confirmation and progress. */
export function IssuesPage({ focusId }: { focusId?: string }) {
  const issues = useIssues();
  // Groups whose action ran stay on the page until it is left, so their progress stays readable after the group
  // stops failing (and so leaves GET /api/issues).
  const [acted, setActed] = useState<Map<string, IssueGroup>>(new Map());
  const current = issues.data?.groups;
  const groups = current && [
    ...current,
    ...[...acted.values()].filter((group) => !current.some((g) => g.id === group.id)),
  ];
  // The focused group (a link from the overview) goes first, so it is on page 1.
  const ordered =
    focusId && groups ? [...groups].sort((a, b) => Number(b.id === focusId) - Number(a.id === focusId)) : groups;
  const paged = usePaged(ordered, 10);
  return (
    <section>
      <h1>Issues</h1>
      <p className="muted">
        Failures grouped by cause. Fix the cause (a mapping, a destination), then run the group's action.
      </p>
      <ErrorNote error={issues.error} />
      {groups?.length === 0 && <p>No open issues.</p>}
      {focusId && current && !groups?.some((g) => g.id === focusId) && (
        <p role="status">That issue group has nothing failing any more.</p>
      )}
      <ul className="cards">
        {paged.items.map((group) => (
          <IssueCard
            key={group.id}
            group={group}
            focused={group.id === focusId}
            onActed={() => setActed((map) => new Map(map).set(group.id, group))}
          />
        ))}
      </ul>
      <ListPager paged={paged} label="Issue groups" />
    </section>
  );
}

function IssueCard({ group, focused, onActed }: { group: IssueGroup; focused: boolean; onActed: () => void }) {
  const queryClient = useQueryClient();
  const ref = useRef<HTMLLIElement>(null);
  const [started, setStarted] = useState<{ kind: string; count: number }>();
  useEffect(() => {
    if (focused) ref.current?.scrollIntoView?.({ block: 'center' });
  }, [focused]);
  const action = useMutation({
    mutationFn: () => post<{ kind: string; count: number }>(`/api/issues/${enc(group.id)}/action`),
    onSuccess: (result) => {
      onActed();
      setStarted(result);
    },
  });
  // Progress: how much of the group has stopped failing since the action started (404: all of it).
  const progress = useQuery({
    queryKey: ['issues', group.id, 'progress'],
    queryFn: async () => {
      try {
        return (await get<IssueGroup>(`/api/issues/${enc(group.id)}`)).count;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return 0;
        throw error;
      }
    },
    enabled: !!started,
    refetchInterval: (query) => (query.state.data === 0 ? false : 1_000),
  });
  const remaining = progress.data ?? started?.count ?? 0;
  const done = started ? Math.max(0, started.count - remaining) : 0;
  const finished = started && remaining === 0;
  useEffect(() => {
    if (finished) void queryClient.invalidateQueries({ queryKey: ['issues'], exact: true });
  }, [finished, queryClient]);

  const sampleLink = (id: string) =>
    group.kind === 'mapping' || group.kind === 'enrichment' ? (
      <Link to={`/events/${enc(id)}`}>{id}</Link>
    ) : (
      <code>{id}</code>
    );
  return (
    <li ref={ref} className={`card${focused ? ' focused' : ''}`} aria-labelledby={`issue-${group.id}`}>
      <h2 id={`issue-${group.id}`}>
        {group.title}{' '}
        <span className="count" aria-label={`${group.count} failing`}>
          {group.count}
        </span>
      </h2>
      <p className="muted">
        {group.kind} · first {formatTime(group.firstSeenAt)} · last {formatTime(group.lastSeenAt)}
      </p>
      {group.sampleIds.length > 0 && (
        <p>
          Examples:{' '}
          {group.sampleIds.map((id, i) => (
            <span key={id}>
              {i > 0 && ', '}
              {sampleLink(id)}
            </span>
          ))}
        </p>
      )}
      <div className="actions">
        {group.kind === 'mapping' && group.key.connector && group.key.eventType && (
          <Link
            className="button"
            to={`/playground?connector=${enc(group.key.connector)}&eventType=${enc(group.key.eventType)}${
              group.sampleIds[0] ? `&event=${enc(group.sampleIds[0])}` : ''
            }`}
          >
            Fix in the mapping playground
          </Link>
        )}
        {group.key.destinationId && <Link to="/destinations">Destination</Link>}
        {group.action && !started && (
          <ConfirmButton
            label={group.action.label}
            title={`${group.action.label}?`}
            confirmLabel={group.action.kind === 'retry' ? 'Retry them' : 'Re-normalise them'}
            danger={false}
            className="primary"
            disabled={action.isPending}
            onConfirm={() => action.mutate()}
          >
            <p>
              {group.action.kind === 'retry'
                ? `All ${group.count} failed deliveries of this group are sent again, starting the retry schedule over.`
                : `The mapping in effect runs again on all ${group.count} events of this group; new output is delivered.`}
            </p>
          </ConfirmButton>
        )}
      </div>
      <ErrorNote error={action.error ?? progress.error} />
      {started && (
        <div className="progress" role="status" aria-live="polite">
          <label>
            {finished
              ? `Done: ${started.count} of ${started.count} no longer failing.`
              : `${started.kind === 'retry' ? 'Retrying' : 'Re-normalising'}: ${done} of ${started.count} done`}
            <progress max={Math.max(1, started.count)} value={done} />
          </label>
        </div>
      )}
    </li>
  );
}
