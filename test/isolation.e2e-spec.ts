import http from 'node:http';
import { AddressInfo } from 'node:net';
import { CanonicalEventService } from '../src/canonical/canonical-event.service';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { DeliveryService } from '../src/delivery/delivery.service';
import { MAX_NORMALIZE_ATTEMPTS } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';

/** A receiver that takes the request and never answers; it counts how many it holds at once. */
class HangingReceiver {
  open = 0;
  maxOpen = 0;
  total = 0;
  url = '';
  private server = http.createServer((req) => {
    this.total++;
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    req.socket.on('close', () => this.open--);
    req.resume();
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/slow`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function createDestination(hub: TestHub, name: string, url: string): Promise<string> {
  const answer = await hub
    .api()
    .post('/api/destinations')
    .send({ name, type: 'webhook', url, eventTypes: ['*'], retrySchedule: [0, 60] })
    .expect(201);
  return answer.body.id as string;
}

describe('isolation e2e', () => {
  describe('slow receivers', () => {
    const CAP = 2;
    let hub: TestHub;
    const slow: HangingReceiver[] = [];
    let healthy: Sink;

    beforeAll(async () => {
      hub = await startHub({
        HUB_DELIVERY_TIMEOUT: '5',
        HUB_DESTINATION_CONCURRENCY: String(CAP),
        HUB_DELIVERY_CONCURRENCY: '20',
      });
      for (let i = 0; i < 4; i++) slow.push(await new HangingReceiver().start());
      healthy = await new Sink().start();
    });

    afterAll(async () => {
      await hub.close();
      await Promise.all(slow.map((receiver) => receiver.stop()));
      await healthy.stop();
    });

    it('hold at most their cap of slots, so a healthy destination never waits behind them', async () => {
      const slowIds: string[] = [];
      for (const [i, receiver] of slow.entries()) slowIds.push(await createDestination(hub, `slow ${i}`, receiver.url));
      await createDestination(hub, 'healthy', healthy.url);
      const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' });
      const EVENTS = 10;
      for (let i = 0; i < EVENTS; i++) {
        await postSalesAsk(hub, source.body.id, `rec_iso_${i}`);
      }

      // Every healthy delivery arrives while the slow receivers still hold their first attempts open: none of
      // those has reached its deadline, so none is recorded yet.
      await waitFor(() => healthy.requests.length === EVENTS, { timeoutMs: 20_000, what: 'every healthy delivery' });
      const [{ slowAttempts }] = await hub.sql<{ slowAttempts: number }>(
        `SELECT count(*)::int AS "slowAttempts" FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
         WHERE d.destination_id = ANY($1)`,
        [slowIds],
      );
      expect(slowAttempts).toBe(0);
      for (const receiver of slow) expect(receiver.maxOpen).toBeLessThanOrEqual(CAP);
      expect(slow.every((receiver) => receiver.maxOpen === CAP)).toBe(true);

      // Waiting for a slot spends no attempt: once the deadlines pass, every attempt counted is a recorded one.
      await waitFor(
        async () => {
          const [row] = await hub.sql<{ counted: number; recorded: number }>(
            `SELECT coalesce(sum(d.attempts), 0)::int AS counted,
                    (SELECT count(*) FROM delivery_attempt a JOIN delivery x ON x.id = a.delivery_id
                     WHERE x.destination_id = ANY($1))::int AS recorded
             FROM delivery d WHERE d.destination_id = ANY($1) AND d.status <> 'sending'`,
            [slowIds],
          );
          return row.recorded >= slow.length * CAP && row.counted === row.recorded;
        },
        { timeoutMs: 20_000, what: 'the first slow attempts to time out and be recorded' },
      );
      const timedOut = await hub.sql<{ error: string }>(
        `SELECT a.error FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id WHERE d.destination_id = ANY($1)`,
        [slowIds],
      );
      expect(timedOut.every((attempt) => /timed out/.test(attempt.error))).toBe(true);
    });
  });

  describe('leases and poison', () => {
    let hub: TestHub;
    let sink: Sink;
    let sourceId: string;

    beforeAll(async () => {
      hub = await startHub();
      sink = await new Sink().start();
      await createDestination(hub, 'sink', sink.url);
      sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' })).body.id;
    });

    afterAll(async () => {
      await hub.close();
      await sink.stop();
    });

    it('a worker whose lease was taken over records nothing', async () => {
      const inbound = await postSalesAsk(hub, sourceId, 'rec_lease');
      await waitFor(() => sink.requests.length >= 1, { what: 'the delivery' });
      const [delivery] = await hub.sql<{ id: string; destinationId: string }>(
        `SELECT d.id, d.destination_id AS "destinationId" FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
         WHERE c.inbound_event_id = $1`,
        [inbound.body.id],
      );
      const deliveries = hub.app.get(DeliveryService);
      await hub.sql(
        `UPDATE delivery SET status = 'pending', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
        [delivery.id],
      );
      const first = await deliveries.claim(delivery.id, 60);
      expect(first.kind).toBe('claimed');
      // The first worker stalls past its lease; a second one takes the delivery over.
      await hub.sql(`UPDATE delivery SET locked_until = now() - interval '1 second' WHERE id = $1`, [delivery.id]);
      const second = await deliveries.claim(delivery.id, 60);
      expect(second.kind).toBe('claimed');
      const attemptsBefore = await hub.sql('SELECT 1 FROM delivery_attempt WHERE delivery_id = $1', [delivery.id]);

      const stale = first.kind === 'claimed' ? first.delivery : undefined;
      expect(
        await deliveries.record(stale!, { outcome: 'succeeded', statusCode: 200, durationMs: 1, error: null }),
      ).toBe(false);
      const attemptsAfter = await hub.sql('SELECT 1 FROM delivery_attempt WHERE delivery_id = $1', [delivery.id]);
      expect(attemptsAfter.length).toBe(attemptsBefore.length);
      const current = second.kind === 'claimed' ? second.delivery : undefined;
      expect(
        await deliveries.record(current!, { outcome: 'succeeded', statusCode: 200, durationMs: 1, error: null }),
      ).toBe(true);
    });

    it('claims and records made together share a statement and keep every lease rule', async () => {
      const inbound = await postSalesAsk(hub, sourceId, 'rec_batched');
      await waitFor(
        async () =>
          (
            await hub.sql(
              `SELECT 1 FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
             WHERE c.inbound_event_id = $1 AND d.status = 'succeeded'`,
              [inbound.body.id],
            )
          ).length,
        { what: 'the delivery' },
      );
      const [delivery] = await hub.sql<{ id: string }>(
        `SELECT d.id FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id WHERE c.inbound_event_id = $1`,
        [inbound.body.id],
      );
      const deliveries = hub.app.get(DeliveryService);
      await hub.sql(
        `UPDATE delivery SET status = 'pending', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
        [delivery.id],
      );
      // Five jobs for one delivery at once (a duplicate job per lost Redis key, say): one gets it.
      const claims = await Promise.all([1, 2, 3, 4, 5].map(() => deliveries.claim(delivery.id, 60)));
      expect(claims.filter((claim) => claim.kind === 'claimed')).toHaveLength(1);
      const held = claims.find((claim) => claim.kind === 'claimed');
      const first = held?.kind === 'claimed' ? held.delivery : undefined;
      await hub.sql(`UPDATE delivery SET locked_until = now() - interval '1 second' WHERE id = $1`, [delivery.id]);
      const taken = await deliveries.claim(delivery.id, 60);
      const second = taken.kind === 'claimed' ? taken.delivery : undefined;
      expect(second?.attempts).toBe(first!.attempts + 1);
      const before = await hub.sql('SELECT 1 FROM delivery_attempt WHERE delivery_id = $1', [delivery.id]);

      // The stale holder (three times) and the current one record together: two statements run at once, so the last
      // stale record and the current one share the third. Only the current one is written.
      const stale = () =>
        deliveries.record(first!, { outcome: 'succeeded', statusCode: 200, durationMs: 1, error: null });
      const recorded = await Promise.all([
        stale(),
        stale(),
        stale(),
        deliveries.record(second!, {
          outcome: 'retry',
          statusCode: 503,
          durationMs: 7,
          error: 'HTTP 503',
          responseBody: 'busy',
          nextAttemptAt: new Date(Date.now() + 60_000),
        }),
      ]);
      expect(recorded).toEqual([false, false, false, true]);
      const after = await hub.sql<{ attempt_no: number; status_code: number; duration_ms: number; outcome: string }>(
        'SELECT attempt_no, status_code, duration_ms, outcome FROM delivery_attempt WHERE delivery_id = $1 ORDER BY id',
        [delivery.id],
      );
      expect(after).toHaveLength(before.length + 1);
      expect(after.at(-1)).toEqual({
        attempt_no: second!.attempts,
        status_code: 503,
        duration_ms: 7,
        outcome: 'retry',
      });
      const [row] = await hub.sql<{ status: string; last_error: string }>(
        'SELECT status, last_error FROM delivery WHERE id = $1',
        [delivery.id],
      );
      expect(row).toEqual({ status: 'retrying', last_error: 'HTTP 503' });
    });

    it('first outputs written together share a statement; an event twice in one batch gets its deliveries once', async () => {
      const [destination] = await hub.sql<{ id: string }>('SELECT id FROM destination LIMIT 1');
      const ids = ['a', 'b', 'c', 'd'].map((tag) => `in_batch_${tag}_${Date.now()}`);
      for (const id of ids) {
        // Counted as being normalised now, so the reconciler leaves them to this test.
        await hub.sql(
          `INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, test, headers, body,
                                      normalize_attempts, last_attempt_at)
           VALUES ($1, $2, $1, 'recording.processed', false, '{}', '\\x7b7d', 1, now())`,
          [id, sourceId],
        );
      }
      const canonical = hub.app.get(CanonicalEventService);
      const output = (inbound: string) => {
        const event = {
          specversion: '1.0',
          id: `evt_${inbound}`,
          type: 'activity.analyzed',
          source: `switchboard/sources/${sourceId}`,
          subject: `activity:salesask:${inbound}`,
          time: new Date().toISOString(),
          datacontenttype: 'application/json',
          connector: 'salesask',
          vendoreventtype: 'recording.processed',
          test: false,
          data: {},
        } as CloudEvent;
        const planned = [
          {
            id: `msg_${inbound}`,
            destinationId: destination.id,
            canonicalEventId: event.id,
            status: 'pending' as const,
          },
        ];
        return canonical.insertFirstOutput(
          inbound,
          [event],
          'file:test',
          planned.map((d) => ({ ...d, lastError: null })),
          {
            ids: [],
            leaseSeconds: 30,
          },
        );
      };
      // The first two go out at once, alone; the four made meanwhile share the third statement, c and d twice each
      // (two jobs for one event, say): each event's delivery goes to its first call only.
      const created = await Promise.all([ids[0], ids[1], ids[2], ids[2], ids[3], ids[3]].map(output));
      expect(created.map((rows) => rows.map((row) => row.id))).toEqual([
        [`msg_${ids[0]}`],
        [`msg_${ids[1]}`],
        [`msg_${ids[2]}`],
        [],
        [`msg_${ids[3]}`],
        [],
      ]);
      const inbound = await hub.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = ANY($1::text[])', [
        ids,
      ]);
      expect(inbound.map((row) => row.status)).toEqual(['normalized', 'normalized', 'normalized', 'normalized']);
      const events = await hub.sql('SELECT id FROM canonical_event WHERE inbound_event_id = ANY($1::text[])', [ids]);
      expect(events).toHaveLength(4);
    });

    it('an event that keeps failing its normalisation ends failed after a bounded number of tries', async () => {
      const inbound = await postSalesAsk(hub, sourceId, 'rec_poison');
      await waitFor(
        async () =>
          (await hub.sql(`SELECT 1 FROM inbound_event WHERE id = $1 AND status = 'normalized'`, [inbound.body.id]))
            .length,
        {
          what: 'the event to be normalised',
        },
      );
      // As if every earlier try had crashed its worker: the next try is over the limit.
      await hub.sql(
        `UPDATE inbound_event SET status = 'received', normalize_attempts = $2, last_attempt_at = NULL WHERE id = $1`,
        [inbound.body.id, MAX_NORMALIZE_ATTEMPTS],
      );
      await hub.app.get(PipelineQueue).normalize([inbound.body.id]);
      const [row] = await waitFor(
        async () => {
          const rows = await hub.sql<{ status: string; error: string }>(
            `SELECT status, error FROM inbound_event WHERE id = $1 AND status = 'failed'`,
            [inbound.body.id],
          );
          return rows.length ? rows : undefined;
        },
        { what: 'the event to end failed' },
      );
      expect(row.error).toMatch(new RegExp(`gave up after ${MAX_NORMALIZE_ATTEMPTS} normalisation attempts`));
    });
  });
});
