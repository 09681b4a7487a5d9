import { dropDatabase, startHub, TestHub } from './helpers/hub';

/** DESIGN §6: when Postgres is unavailable, vendors get 503 (so they retry) and /health says so. */
describe('database outage e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('answers 503 with Retry-After on ingest, and /health 503, once the database is gone', async () => {
    const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201);
    await hub.http().get('/health').expect(200);

    await dropDatabase(hub.databaseName); // terminates the hub's connections and removes the data

    const answer = await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify({ event: 'recording.processed', data: { id: 'rec_outage' } }))
      .expect(503);
    expect(answer.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Storage is unavailable; retry later',
      correlationId: expect.any(String),
    });
    expect(answer.headers['retry-after']).toBe('30');

    const health = await hub.http().get('/health').expect(503);
    expect(health.body.error.database.status).toBe('down');
    expect(health.body.info.redis.status).toBe('up');
  });
});
