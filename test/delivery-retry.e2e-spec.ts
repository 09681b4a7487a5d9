import { postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { whsec } from './helpers/vendors';

interface AttemptRow {
  attempt_no: number;
  status_code: number | null;
  outcome: string;
  error: string | null;
  response_body: string | null;
  started_at: Date;
  next_attempt_at: Date | null;
}

/** Retries on the DESIGN §5 rules, with the test schedule 0, 0.2, 0.2, 0.2, 0.2 s (HUB_RETRY_SCHEDULE). */
describe('delivery retries e2e', () => {
  let hub: TestHub;
  const originalSecret = whsec();
  let sourceId: string;

  beforeAll(async () => {
    hub = await startHub();
    const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201);
    sourceId = source.body.id;
  });

  afterAll(async () => {
    await hub?.close();
  });

  async function withSink(run: (sink: Sink, destinationId: string) => Promise<void>, extra: object = {}) {
    const sink = await new Sink().start();
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'sink', type: 'webhook', url: sink.url, eventTypes: ['*'], ...extra })
      .expect(201);
    try {
      await run(sink, destination.body.id);
    } finally {
      await hub.api().delete(`/api/destinations/${destination.body.id}`);
      await sink.stop();
    }
  }

  /** Each Sales Ask body is unique (dedup is on the body hash), so every call is a new event. */
  async function sendEvent(tag: string): Promise<void> {
    await postSalesAsk(hub, sourceId, `rec_${tag}`);
  }

  async function attemptsOf(destinationId: string, count: number, outcome: string): Promise<AttemptRow[]> {
    return waitFor(
      async () => {
        const rows = await hub.sql<AttemptRow>(
          `SELECT a.* FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
           WHERE d.destination_id = $1 ORDER BY a.attempt_no`,
          [destinationId],
        );
        return rows.length >= count && rows[count - 1].outcome === outcome ? rows : undefined;
      },
      { what: `${count} attempts ending ${outcome}` },
    );
  }

  it('retries 500, 500, 429 with Retry-After, then succeeds, and logs exactly those attempts', async () => {
    await withSink(async (sink, destinationId) => {
      sink.respondWith(
        { status: 500, body: 'boom' },
        { status: 500, body: 'boom again' },
        { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' },
      );
      await sendEvent('retry');
      const attempts = await attemptsOf(destinationId, 4, 'succeeded');
      expect(attempts.map((a) => [a.attempt_no, a.status_code, a.outcome])).toEqual([
        [1, 500, 'retry'],
        [2, 500, 'retry'],
        [3, 429, 'retry'],
        [4, 200, 'succeeded'],
      ]);
      expect(attempts[0].response_body).toBe('boom');
      expect(attempts[2].error).toBe('HTTP 429');
      // Retry-After: 1 outweighs the 0.2 s schedule: the fourth attempt was planned, and made, a second later.
      const planned = attempts[2].next_attempt_at!.getTime() - attempts[2].started_at.getTime();
      expect(planned).toBeGreaterThanOrEqual(1000);
      expect(sink.requests[3].at - sink.requests[2].at).toBeGreaterThanOrEqual(950);
      // webhook-id is stable across retries.
      expect(new Set(sink.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
      const [delivery] = await hub.sql<{ status: string; attempts: number }>(
        'SELECT status, attempts FROM delivery WHERE destination_id = $1',
        [destinationId],
      );
      expect(delivery).toEqual({ status: 'succeeded', attempts: 4 });
    });
  });

  it('gives up as exhausted after the last scheduled attempt', async () => {
    await withSink(async (sink, destinationId) => {
      sink.fallback = { status: 503 };
      await sendEvent('exhaust');
      const attempts = await attemptsOf(destinationId, 5, 'exhausted');
      expect(attempts.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry', 'retry', 'exhausted']);
      await new Promise((r) => setTimeout(r, 500));
      expect(sink.requests).toHaveLength(5);
      const [delivery] = await hub.sql<{ status: string }>('SELECT status FROM delivery WHERE destination_id = $1', [
        destinationId,
      ]);
      expect(delivery.status).toBe('exhausted');
    });
  });

  it('counts a 3xx as a failure and does not follow the redirect', async () => {
    await withSink(async (sink, destinationId) => {
      sink.respondWith({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
      await sendEvent('redirect');
      const attempts = await attemptsOf(destinationId, 2, 'succeeded');
      expect(attempts.map((a) => [a.status_code, a.outcome])).toEqual([
        [302, 'retry'],
        [200, 'succeeded'],
      ]);
      expect(sink.requests).toHaveLength(2);
    });
  });

  it('disables the destination on 410 Gone and stops', async () => {
    await withSink(async (sink, destinationId) => {
      sink.fallback = { status: 410 };
      await sendEvent('gone');
      const attempts = await attemptsOf(destinationId, 1, 'failed');
      expect(attempts).toHaveLength(1);
      const view = await hub.api().get(`/api/destinations/${destinationId}`).expect(200);
      expect(view.body.status).toBe('disabled');
      expect(view.body.disabledReason).toContain('410');
      // Later events are not routed to a disabled destination.
      await sendEvent('after-gone');
      await new Promise((r) => setTimeout(r, 500));
      expect(sink.requests).toHaveLength(1);
    });
  });

  it('honours a per-destination retry schedule', async () => {
    await withSink(
      async (sink, destinationId) => {
        sink.fallback = { status: 500 };
        await sendEvent('own-schedule');
        const attempts = await attemptsOf(destinationId, 2, 'exhausted');
        expect(attempts.map((a) => a.outcome)).toEqual(['retry', 'exhausted']);
      },
      { retrySchedule: [0, 0.1] },
    );
  });

  it('caps the recorded response body at 16 KiB', async () => {
    await withSink(async (sink, destinationId) => {
      sink.respondWith({ status: 500, body: 'x'.repeat(40_000) });
      await sendEvent('big-answer');
      const attempts = await attemptsOf(destinationId, 2, 'succeeded');
      expect(attempts[0].response_body).toHaveLength(16 * 1024);
    });
  });

  it('routes only events that pass the destination JSONata filter', async () => {
    const recordings = await new Sink().start();
    const meetings = await new Sink().start();
    try {
      const a = await hub
        .api()
        .post('/api/destinations')
        .send({
          name: 'rec',
          type: 'webhook',
          url: recordings.url,
          eventTypes: ['*'],
          filter: 'data.kind = "recording"',
        })
        .expect(201);
      const b = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'mtg', type: 'webhook', url: meetings.url, eventTypes: ['*'], filter: 'data.kind = "meeting"' })
        .expect(201);
      await sendEvent('filtered');
      await waitFor(() => recordings.requests.length === 1, { what: 'the recording at the matching sink' });
      await new Promise((r) => setTimeout(r, 300));
      expect(meetings.requests).toHaveLength(0);
      await hub.api().delete(`/api/destinations/${a.body.id}`);
      await hub.api().delete(`/api/destinations/${b.body.id}`);
    } finally {
      await recordings.stop();
      await meetings.stop();
    }
  });

  it('signs with the old and the new secret during a rotation grace period', async () => {
    await withSink(
      async (sink, destinationId) => {
        const before = await hub.api().get(`/api/destinations/${destinationId}`).expect(200);
        expect(before.body.secret).toBeUndefined();
        const rotated = await hub.api().post(`/api/destinations/${destinationId}/rotate-secret`).expect(200);
        await sendEvent('rotation');
        const received = await waitFor(() => sink.requests[0], { what: 'the event after rotation' });
        const headers = {
          'webhook-id': String(received.headers['webhook-id']),
          'webhook-timestamp': String(received.headers['webhook-timestamp']),
          'webhook-signature': String(received.headers['webhook-signature']),
        };
        expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
        expect(() => new StandardWebhook(rotated.body.secret).verify(received.body, headers)).not.toThrow();
        expect(() => new StandardWebhook(originalSecret).verify(received.body, headers)).not.toThrow();
        expect(() => new StandardWebhook(whsec()).verify(received.body, headers)).toThrow();
      },
      { secret: originalSecret },
    );
  });
});
