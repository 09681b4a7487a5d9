import { deleteQueueKeys, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { salesAskRecording } from './helpers/vendors';

/**
 * DESIGN §1: Postgres is the source of truth, Redis only schedules. Losing every queue key mid-run must lose
 * nothing: the reconciler re-derives the work from Postgres, and the delivery lease keeps it exactly-once.
 */
describe('recovery e2e', () => {
  let hub: TestHub;
  let sink: Sink;
  let sourceId: string;

  beforeAll(async () => {
    hub = await startHub({ HUB_RECONCILE_INTERVAL: '1' });
    sink = await new Sink().start();
    // A slow receiver keeps deliveries in flight while Redis is wiped.
    sink.fallback = { status: 200, delayMs: 150 };
    const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201);
    sourceId = source.body.id;
    await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'sink', type: 'webhook', url: sink.url, eventTypes: ['*'] })
      .expect(201);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  it('delivers every acknowledged event exactly once by webhook-id after a Redis flush mid-run', async () => {
    const total = 40;
    const send = async (i: number) => {
      const response = await hub
        .http()
        .post(`/hooks/${sourceId}`)
        .set('content-type', 'application/json')
        .send(salesAskRecording(`rec_recovery_${i}`))
        .expect(202);
      return response.body.id as string;
    };
    // A burst, then wipe this hub's queues while normalize and deliver jobs are still waiting or in flight.
    const acknowledged = await Promise.all(Array.from({ length: total / 2 }, (_, i) => send(i)));
    const flushed = await deleteQueueKeys(hub.config.queuePrefix);
    acknowledged.push(...(await Promise.all(Array.from({ length: total / 2 }, (_, i) => send(total / 2 + i)))));
    await waitFor(() => sink.requests.length >= total / 2, { what: 'deliveries under way' });
    await deleteQueueKeys(hub.config.queuePrefix);
    expect(flushed).toBeGreaterThan(0);

    await waitFor(() => new Set(sink.requests.map((r) => r.headers['webhook-id'])).size >= total, {
      timeoutMs: 30_000,
      what: `${total} distinct webhook-ids at the sink`,
    });
    // Give the reconciler a few more passes to prove nothing is sent twice.
    await new Promise((r) => setTimeout(r, 3000));

    const ids = sink.requests.map((r) => String(r.headers['webhook-id']));
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    const subjects = new Set(sink.requests.map((r) => JSON.parse(r.body).subject));
    expect(subjects.size).toBe(total);

    const states = await hub.sql<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM delivery GROUP BY status',
    );
    expect(states).toEqual([{ status: 'succeeded', n: total }]);
    const inbound = await hub.sql<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM inbound_event WHERE id = ANY($1) GROUP BY status',
      [acknowledged],
    );
    expect(inbound).toEqual([{ status: 'normalized', n: total }]);
  });
});
