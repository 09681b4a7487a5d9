import { Client } from 'pg';
import { startHub, TestHub, waitFor } from './helpers/hub';

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

/**
 * Issue 7: while Postgres is unavailable, /api answered 500. It must answer 503 with Retry-After, so clients
 * retry, and reveal nothing internal. The hub's own database is made unreachable without stopping the shared
 * server: connections to it are refused and the existing ones terminated, from a client on the `postgres` db.
 */
describe('management API during a database outage e2e', () => {
  let hub: TestHub;
  let admin: Client;
  let sourceId: string;

  const allowConnections = (allow: boolean) =>
    admin.query(`ALTER DATABASE "${hub.databaseName}" ALLOW_CONNECTIONS ${allow}`);

  beforeAll(async () => {
    hub = await startHub({ HUB_ROLE: 'api' });
    admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
    await admin.connect();
    sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201))
      .body.id;
  });

  afterAll(async () => {
    await allowConnections(true).catch(() => undefined);
    await admin?.end();
    await hub?.close();
  });

  it('answers 503 with Retry-After on /api while the database refuses connections, then 200 again', async () => {
    await allowConnections(false);
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [hub.databaseName],
    );

    const calls: [string, () => ReturnType<ReturnType<TestHub['api']>['get']>][] = [
      ['list sources', () => hub.api().get('/api/sources')],
      ['get source', () => hub.api().get(`/api/sources/${sourceId}`)],
      ['list events', () => hub.api().get('/api/events')],
      ['list destinations', () => hub.api().get('/api/destinations')],
      ['create source', () => hub.api().post('/api/sources').send({ name: 'During outage', connector: 'salesask' })],
      ['update source', () => hub.api().patch(`/api/sources/${sourceId}`).send({ name: 'Renamed' })],
    ];
    for (const [what, call] of calls) {
      const answer = await call();
      expect({ what, status: answer.status }).toEqual({ what, status: 503 });
      expect(answer.headers['retry-after']).toBe('30');
      expect(answer.body).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Storage is unavailable; retry later',
        correlationId: expect.any(String),
      });
      expect(JSON.stringify(answer.body)).not.toContain(hub.databaseName);
    }

    await allowConnections(true);
    await waitFor(async () => (await hub.api().get('/api/sources')).status === 200, {
      what: '/api to answer 200 once the database accepts connections again',
    });
    const sources = await hub.api().get('/api/sources').expect(200);
    expect(sources.body.map((s: { id: string }) => s.id)).toEqual([sourceId]);
    await hub.api().get(`/api/sources/${sourceId}`).expect(200);
  });
});
