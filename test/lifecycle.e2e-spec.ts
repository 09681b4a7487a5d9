import pino from 'pino';
import { createWorkerContext } from '../src/bootstrap';
import { dropDatabase, deleteQueueKeys, startHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { salesAskRecording } from './helpers/vendors';

async function salesAskEvent(hub: Awaited<ReturnType<typeof startHub>>, sourceId: string, tag: string) {
  const answer = await hub
    .http()
    .post(`/hooks/${sourceId}`)
    .set('content-type', 'application/json')
    .send(salesAskRecording(`rec_${tag}`))
    .expect(202);
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
