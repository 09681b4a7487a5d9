import { spawn } from 'node:child_process';
import net from 'node:net';
import Redis from 'ioredis';
import { withTimeout } from '../src/common/with-timeout';
import { ReconcilerService } from '../src/pipeline/reconciler.service';
import { dropDatabase, postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';

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
    const answer = await postSalesAsk(hub, source.body.id, 'rec_redis_down');
    const rows = await hub.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = $1', [answer.body.id]);
    expect(rows).toEqual([{ status: 'received' }]);

    const health = await hub.http().get('/health').expect(503);
    expect(health.body.info.database.status).toBe('up');
    expect(health.body.error.redis.status).toBe('down');
  });
});

/** A private redis-server the test can kill, so the shared one on 6379 is never touched. */
async function startPrivateRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
    { what: 'the private redis-server' },
  );
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('redis dies under a running worker', () => {
  it('a reconciler pass costs one bounded enqueue, and shutdown still completes', async () => {
    const redis = await startPrivateRedis();
    const hub = await startHub({ REDIS_URL: redis.url, HUB_ROLE: 'all', HUB_RECONCILE_INTERVAL: '3600' });
    try {
      const source = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'Sales Ask', connector: 'salesask' })
        .expect(201);
      await redis.stop();
      for (let i = 0; i < 50; i++) {
        await postSalesAsk(hub, source.body.id, `rec_dead_redis_${i}`);
      }
      await hub.sql(`UPDATE inbound_event SET received_at = now() - interval '1 minute'`);

      // Before: one 1 s timeout per row (50 s here). Now one bulk enqueue per list, refused at once.
      const started = Date.now();
      const counts = await hub.app.get(ReconcilerService).reconcile();
      expect(counts.normalize).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);

      // Before: BullMQ's graceful close sent QUIT to a Redis that was gone and waited for ever.
      await withTimeout(hub.app.close(), 20_000, 'shutdown with redis down');
    } finally {
      await dropDatabase(hub.databaseName);
      await redis.stop();
    }
  });
});
