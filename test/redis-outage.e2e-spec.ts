import { startHub, TestHub } from './helpers/hub';
import { salesAskRecording } from './helpers/vendors';

/**
 * DESIGN §1: a 2xx means the delivery is committed to Postgres; Redis only schedules. With Redis unreachable the
 * hub still accepts and stores (the reconciler enqueues later), and /health reports Redis down.
 */
describe('redis outage e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    // Nothing listens on this port; the api role starts no workers, so only enqueueing is affected.
    hub = await startHub({ REDIS_URL: 'redis://127.0.0.1:6390', HUB_ROLE: 'api' });
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('still answers 202 and stores the event; /health reports redis down', async () => {
    const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201);
    const answer = await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set('content-type', 'application/json')
      .send(salesAskRecording('rec_redis_down'))
      .expect(202);
    const rows = await hub.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = $1', [answer.body.id]);
    expect(rows).toEqual([{ status: 'received' }]);

    const health = await hub.http().get('/health').expect(503);
    expect(health.body.info.database.status).toBe('up');
    expect(health.body.error.redis.status).toBe('down');
  });
});
