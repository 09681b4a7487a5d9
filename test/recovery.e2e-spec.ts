import Redis from 'ioredis';
import { QueueName } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { addSink, deleteQueueKeys, postSalesAsk, REDIS_URL, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';

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
    await addSink(hub, sink.url, ['*']);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  it('delivers every acknowledged event exactly once by webhook-id after a Redis flush mid-run', async () => {
    const total = 40;
    const send = async (i: number) => {
      const response = await postSalesAsk(hub, sourceId, `rec_recovery_${i}`);
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

  it('removes a husk Redis kept of a job (its hash in no list), so the reconciler can enqueue the row again', async () => {
    // A flush done key by key, or eviction, can leave a job's hash behind without its place in a list. BullMQ takes
    // an add under that id for a duplicate, so the row would be owed for ever (seen in the test above, before the
    // reconciler checked for husks).
    const queue = hub.app.get(PipelineQueue);
    const deliver = queue.queue(QueueName.Deliver);
    const redis = new Redis(REDIS_URL);
    try {
      await redis.hset(`${hub.config.queuePrefix}:${QueueName.Deliver}:msg_husk`, {
        name: 'deliver',
        data: JSON.stringify({ deliveryId: 'msg_husk' }),
        opts: '{}',
        timestamp: String(Date.now()),
      });
    } finally {
      redis.disconnect();
    }
    await queue.deliver([{ id: 'msg_waiting', destinationId: 'dst_x' }], 3_600_000);
    expect(await deliver.getJobState('msg_husk')).toBe('unknown');
    // The husk blocks an add under its id.
    await queue.deliver([{ id: 'msg_husk', destinationId: 'dst_x' }], 3_600_000);
    expect(await deliver.getJobState('msg_husk')).toBe('unknown');

    expect(await queue.removeOrphans(QueueName.Deliver, ['msg_husk', 'msg_waiting', 'msg_never_added'])).toBe(1);
    expect(await deliver.getJob('msg_husk')).toBeUndefined();
    expect(await deliver.getJobState('msg_waiting')).toBe('delayed');
    await queue.deliver([{ id: 'msg_husk', destinationId: 'dst_x' }], 3_600_000);
    expect(await deliver.getJobState('msg_husk')).toBe('delayed');
    await deliver.remove('msg_husk');
    await deliver.remove('msg_waiting');
  });
});
