import { useQuery } from '@tanstack/react-query';
import { get } from '../../api/client';
import { useIssues } from '../../api/queries';
import type { Stats } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { formatTime } from '../../components/format';
import { SmallChart } from '../../components/SmallChart';
import { Link } from '../../router';

const GREEN = '#1a7f37';
const RED = '#b42318';
const AMBER = '#9a6700';
const BLUE = '#0b5cad';

/** The last 24 h per connector and destination, and the open issues, each linking to its group. */
export function OverviewPage() {
  const stats = useQuery({
    queryKey: ['stats', 24],
    queryFn: () => get<Stats>('/api/stats?hours=24'),
    refetchInterval: 30_000,
  });
  const issues = useIssues();
  return (
    <section>
      <h1>Overview</h1>
      <h2>Open issues</h2>
      <ErrorNote error={issues.error} />
      {issues.data && issues.data.groups.length === 0 && <p>No open issues. Everything delivered.</p>}
      {issues.data && issues.data.groups.length > 0 && (
        <ul className="issue-links">
          {issues.data.groups.slice(0, 10).map((group) => (
            <li key={group.id}>
              <Link to={`/issues/${encodeURIComponent(group.id)}`}>{group.title}</Link>{' '}
              <span className="count">{group.count}</span>{' '}
              <span className="muted">last {formatTime(group.lastSeenAt)}</span>
            </li>
          ))}
          {issues.data.groups.length > 10 && (
            <li>
              <Link to="/issues">All {issues.data.groups.length} issue groups</Link>
            </li>
          )}
        </ul>
      )}
      <h2>Last 24 hours</h2>
      <ErrorNote error={stats.error} />
      {stats.isPending && <p className="loading">Loading counts…</p>}
      {stats.data && (
        <>
          <h3>Connectors</h3>
          {stats.data.connectors.length === 0 && <p className="muted">Nothing received yet.</p>}
          <div className="charts">
            {stats.data.connectors.map((c) => (
              <SmallChart
                key={c.connector}
                title={c.connector}
                from={stats.data.from}
                bucketSeconds={stats.data.bucketSeconds}
                series={[
                  { label: 'accepted', values: c.accepted, stroke: GREEN },
                  { label: 'rejected', values: c.rejected, stroke: AMBER },
                  { label: 'failed', values: c.failed, stroke: RED },
                ]}
              />
            ))}
          </div>
          <h3>Destinations</h3>
          {stats.data.destinations.length === 0 && <p className="muted">Nothing delivered yet.</p>}
          <div className="charts">
            {stats.data.destinations.map((d) => (
              <SmallChart
                key={d.destinationId}
                title={`${d.name} (${d.type})`}
                from={stats.data.from}
                bucketSeconds={stats.data.bucketSeconds}
                series={[
                  { label: 'delivered', values: d.delivered, stroke: BLUE },
                  { label: 'failed', values: d.failed, stroke: RED },
                ]}
              />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
