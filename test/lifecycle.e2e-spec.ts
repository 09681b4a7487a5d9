import { Worker } from 'bullmq';
import net from 'node:net';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { createWorkerContext } from '../src/bootstrap';
import { HubConfig } from '../src/config/hub-config';
import { HotPool } from '../src/database/prepared';
import { LifecycleService } from '../src/lifecycle.service';
import { MappingService } from '../src/mappings/mapping.service';
import { NormalizeJob } from '../src/pipeline/normalize.job';
import { QueueName } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { ReconcilerService } from '../src/pipeline/reconciler.service';
import { deleteQueueKeys, dropDatabase, postSalesAsk, REDIS_URL, startHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';

async function salesAskEvent(hub: Awaited<ReturnType<typeof startHub>>, sourceId: string, tag: string) {
  const answer = await postSalesAsk(hub, sourceId, `rec_${tag}`);
  return answer.body.id as string;
}

describe('lifecycle e2e', () => {
  it('shuts down gracefully: stops accepting, finishes the in-flight delivery, then closes', async () => {
    const hub = await startHub();
    const sink = await new Sink().start();
    sink.fallback = { status: 200, delayMs: 1500 };
    try {
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 's', type: 'webhook', url: sink.url, eventTypes: ['*'] });
      const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' });
      await salesAskEvent(hub, source.body.id, 'inflight');
      await waitFor(() => sink.requests.length === 1, { what: 'the delivery to be in flight' });

      const [before] = await hub.sql<{ status: string }>('SELECT status FROM delivery');
      expect(before.status).toBe('sending');
      const { Client } = await import('pg');
      await hub.app.close(); // SIGTERM path: Nest closes HTTP, then LifecycleService drains workers
      await expect(hub.http().get('/health')).rejects.toThrow();

      const db = new Client({ connectionString: hub.config.databaseUrl });
      await db.connect();
      const { rows } = await db.query(
        'SELECT d.status, a.outcome FROM delivery d JOIN delivery_attempt a ON a.delivery_id = d.id',
      );
      await db.end();
      expect(rows).toEqual([{ status: 'succeeded', outcome: 'succeeded' }]);
    } finally {
      await dropDatabase(hub.databaseName);
      await deleteQueueKeys(hub.config.queuePrefix);
      await sink.stop();
    }
  });

  it('splits roles: an api-only hub stores and enqueues, a worker process normalises and delivers', async () => {
    const api = await startHub({ HUB_ROLE: 'api' });
    const sink = await new Sink().start();
    try {
      await api
        .api()
        .post('/api/destinations')
        .send({ name: 's', type: 'webhook', url: sink.url, eventTypes: ['*'] });
      const source = await api.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' });
      const id = await salesAskEvent(api, source.body.id, 'split');
      await new Promise((r) => setTimeout(r, 500));
      const [waiting] = await api.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = $1', [id]);
      expect(waiting.status).toBe('received');
      expect(sink.requests).toHaveLength(0);

      const worker = await createWorkerContext({ ...api.config, role: 'worker' }, pino({ level: 'silent' }));
      try {
        await waitFor(() => sink.requests.length === 1, { what: 'the worker to deliver' });
        expect(JSON.parse(sink.requests[0].body)).toMatchObject({ type: 'activity.analyzed', connector: 'salesask' });
      } finally {
        await worker.close();
      }
    } finally {
      await api.close();
      await sink.stop();
    }
  });
});

/**
 * A loopback proxy to the real Redis that holds back each connection's replies for `holdMs` from the moment the
 * connection sends its second INFO: ioredis' ready check is the first, BullMQ's version check (the last step of its
 * connection setup) the second. So BullMQ's setup is still waiting when the test closes.
 */
async function slowSetupRedis(holdMs: number) {
  const upstreamUrl = new URL(REDIS_URL);
  const sockets = new Set<net.Socket>();
  let versionChecks = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(upstreamUrl.port || 6379), upstreamUrl.hostname);
    let infos = 0;
    let holding = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      infos += chunk.toString('latin1').toLowerCase().split('$4\r\ninfo\r\n').length - 1;
      if (infos >= 2 && !holding) {
        holding = true;
        versionChecks++;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!holding) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), holdMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    versionChecks: () => versionChecks,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * BullMQ rejects a connection's setup unhandled when the connection closes while its version check is still waiting
 * (taskforcesh/bullmq#3546), which fails a test suite or a stopping process. A hub stopped right after it started
 * hits it; CI did, on a suite that runs one request.
 */
describe('closing while BullMQ is still connecting', () => {
  const silent = pino({ level: 'silent' });
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  let proxy: Awaited<ReturnType<typeof slowSetupRedis>>;

  beforeEach(async () => {
    unhandled.length = 0;
    process.on('unhandledRejection', record);
    proxy = await slowSetupRedis(500);
  });

  afterEach(async () => {
    process.off('unhandledRejection', record);
    await proxy.close();
    // The queues wrote their meta keys to the real Redis through the proxy.
    await deleteQueueKeys(`sbtest_setup_${process.pid}`);
  });

  it('shutdown lets a worker finish connecting before it closes the worker', async () => {
    const prefix = `sbtest_setup_${process.pid}`;
    const { port } = new URL(proxy.url);
    const worker = new Worker(QueueName.Normalize, async () => undefined, {
      autorun: false,
      prefix,
      connection: { host: '127.0.0.1', port: Number(port) },
    });
    worker.on('error', () => undefined);
    // Redis answers the shutdown's ping at once: the queue is on the real Redis, only the worker is held back.
    const queue = new PipelineQueue({ redisUrl: REDIS_URL, queuePrefix: prefix } as HubConfig, silent);
    const lifecycle = new LifecycleService(
      { stop: async () => undefined } as unknown as ReconcilerService,
      queue,
      { close: async () => undefined } as unknown as MappingService,
      { isInitialized: false } as DataSource,
      { close: async () => undefined } as unknown as HotPool,
      silent,
      { worker, drainInline: async () => undefined } as unknown as NormalizeJob,
    );
    try {
      // The worker's two connections (jobs and blocking) are both at their version check.
      await waitFor(() => proxy.versionChecks() === 2, { what: "the worker's version checks" });
      await lifecycle.beforeApplicationShutdown('SIGTERM');
      expect(worker.closing).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 800)); // past the held replies
      expect(unhandled).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  it('the producer queues finish connecting before their shared connection closes', async () => {
    const queue = new PipelineQueue(
      { redisUrl: proxy.url, queuePrefix: `sbtest_setup_${process.pid}` } as HubConfig,
      silent,
    );
    await waitFor(() => proxy.versionChecks() === 1, { what: "the queues' version checks" });
    await queue.close();
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(unhandled).toEqual([]);
  });
});
