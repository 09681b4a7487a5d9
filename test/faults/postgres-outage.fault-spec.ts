import { Client } from 'pg';
import { account } from './harness/accounting';
import { PG_SERVER, SHARED_REDIS_URL, sleep } from './harness/env';
import { HubDeployment } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { check, deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 100;
const SECONDS = 14;
const OUTAGE_AT_MS = 4000;
const OUTAGE_MS = 5000;

/**
 * Scenario 3: the hub's database refuses connections for 5 s and its open connections are terminated, without
 * stopping the shared server (ALLOW_CONNECTIONS false + pg_terminate_backend, that database only). Ingest must
 * answer 503 with Retry-After, and every 2xx must be a committed row.
 */
describe('fault: Postgres unavailable for 5 s', () => {
  const deployment = new HubDeployment('pg', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;
  const admin = new Client({ connectionString: `${PG_SERVER}/postgres` });

  afterAll(async () => {
    await admin.query(`ALTER DATABASE "${deployment.databaseName}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it('answers 503 with Retry-After while Postgres is away, and loses nothing acknowledged', async () => {
    const startedAt = Date.now();
    await admin.connect();
    await sink.start();
    const hub = await deployment.start('all');
    const source = await createSource(hub.baseUrl, 'salesask');
    const destination = await createSinkDestination(hub.baseUrl, sink, 'main');

    const window = { from: 0, to: 0 };
    const faults = (async () => {
      await sleep(OUTAGE_AT_MS);
      await admin.query(`ALTER DATABASE "${deployment.databaseName}" ALLOW_CONNECTIONS false`);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [deployment.databaseName],
      );
      window.from = Date.now();
      await sleep(OUTAGE_MS);
      window.to = Date.now();
      await admin.query(`ALTER DATABASE "${deployment.databaseName}" ALLOW_CONNECTIONS true`);
    })();
    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(hub.baseUrl, source.id, `p${i}`),
    });
    await faults;

    // Answers to requests sent well inside the outage (a request already holding a connection may finish first).
    const during = load.results.filter((r) => r.dueAt > window.from + 500 && r.doneAt < window.to);
    const bad = during.filter((r) => !(r.status === 503 && r.retryAfter));
    const anyFiveHundred = load.results.filter((r) => r.status !== undefined && r.status >= 500 && r.status !== 503);
    const withoutRetryAfter = load.results.filter((r) => r.status === 503 && !r.retryAfter);
    const health = await fetch(`${hub.baseUrl}/health`).then((r) => r.status);

    db = await deployment.sql();
    const accounting = await account(db, load.acks, sink, 'main', destination.id, 60_000);
    const failed = finish(
      'postgres-outage',
      `Postgres refuses the hub's database for ${OUTAGE_MS / 1000} s during ${RATE}/s`,
      startedAt,
      accounting,
      [
        ...deliveryChecks(accounting, sink),
        check('ingest answered during the outage', during.length > 0, `${during.length} answers`),
        check(
          'during the outage every ingest answer is 503 with Retry-After',
          bad.length === 0,
          bad.length ? summarize(bad) : undefined,
        ),
        check(
          'no 5xx other than 503',
          anyFiveHundred.length === 0,
          anyFiveHundred.length ? summarize(anyFiveHundred) : undefined,
        ),
        check('every 503 carries Retry-After', withoutRetryAfter.length === 0, withoutRetryAfter.length || undefined),
        check('the hub process stays up and is healthy after', hub.alive && health === 200, `health ${health}`),
      ],
      {
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
        answersDuringOutage: during.length,
      },
    );
    expect(failed).toEqual([]);
  });
});

function summarize(results: { status?: number; error?: string; retryAfter?: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = `${r.status ?? r.error}${r.status === 503 ? ` retry-after=${r.retryAfter ?? 'none'}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
