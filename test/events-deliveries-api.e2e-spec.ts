import { postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

interface EventSummary {
  id: string;
  sourceId: string;
  vendorEventType: string;
  vendorEventId?: string;
  status: string;
  test: boolean;
  receivedAt: string;
}

interface Attempt {
  attempt: number;
  statusCode: number | null;
  outcome: string;
  responseBody: string | null;
}

interface Delivery {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  status: string;
  attempts: number;
  attempts_log: Attempt[];
}

/**
 * Issue 9, "Events, deliveries, replay": the event log (cursor paging, every filter), the one-document event detail,
 * re-normalise into a new revision, replay, and delivery retry one by one and in bulk, against a real hub and real
 * receivers on loopback.
 */
describe('events and deliveries API e2e', () => {
  let hub: TestHub;
  let sink: Sink;
  /** Answers 500 until a test lets it succeed: its deliveries end exhausted (test schedule: 5 quick tries). */
  let flaky: Sink;
  const vendorSecret = whsec();
  let salesAsk: string;
  let askElephant: string;
  let mainDestination: string;
  let flakyDestination: string;
  const recordings: Record<string, string> = {};
  let engagementEvent: string;
  let engagementVendorId: string;

  const webhookIdsAt = (s: Sink) => s.requests.map((r) => String(r.headers['webhook-id']));
  const listEvents = async (query: string) =>
    (await hub.api().get(`/api/events?${query}`).expect(200)).body as { items: EventSummary[]; nextCursor?: string };
  const detail = async (id: string) => (await hub.api().get(`/api/events/${id}`).expect(200)).body;
  const deliveriesOf = async (destinationId: string, status?: string): Promise<Delivery[]> =>
    (
      await hub
        .api()
        .get(`/api/deliveries?destinationId=${destinationId}${status ? `&status=${status}` : ''}&limit=500`)
        .expect(200)
    ).body.items;

  beforeAll(async () => {
    hub = await startHub();
    sink = await new Sink().start();
    flaky = await new Sink().start();
    flaky.fallback = { status: 500, body: 'flaky is down' };
    salesAsk = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201))
      .body.id;
    askElephant = (
      await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AskElephant', connector: 'askelephant', secrets: [vendorSecret] })
        .expect(201)
    ).body.id;
    mainDestination = (
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'main', type: 'webhook', url: sink.url, eventTypes: ['activity.*'], includeTest: true })
        .expect(201)
    ).body.id;
    flakyDestination = (
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'flaky', type: 'webhook', url: flaky.url, eventTypes: ['activity.analyzed'] })
        .expect(201)
    ).body.id;

    // Five Sales Ask recordings, one after the other (distinct receipt times), the first answered with a body.
    sink.respondWith({ status: 200, body: 'thanks for r1' });
    for (const tag of ['r1', 'r2', 'r3', 'r4', 'r5']) {
      const accepted = await postSalesAsk(hub, salesAsk, `rec_${tag}`);
      recordings[tag] = accepted.body.id;
      await waitFor(() => sink.requests.length >= Object.keys(recordings).length, { what: `delivery of ${tag}` });
    }
    // One AskElephant engagement, signed, with a vendor header that carries a token.
    const body = sample('askelephant', 'v1.engagement.updated.json');
    engagementVendorId = JSON.parse(body.toString()).id;
    const accepted = await hub
      .http()
      .post(`/hooks/${askElephant}`)
      .set({ ...svixHeaders(vendorSecret, body), 'x-vendor-token': 'tok_should_never_show' })
      .send(body.toString())
      .expect(202);
    engagementEvent = accepted.body.id;
    await waitFor(() => sink.requests.length >= 6, { what: 'delivery of the engagement' });
    // Flaky's five deliveries (Sales Ask only) end exhausted.
    await waitFor(async () => (await deliveriesOf(flakyDestination, 'exhausted')).length === 5, {
      what: 'flaky deliveries to be exhausted',
    });
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
    await flaky?.stop();
  });

  describe('auth', () => {
    it.each([
      ['get', '/api/events'],
      ['get', '/api/events/in_x'],
      ['post', '/api/events/in_x/renormalize'],
      ['post', '/api/events/in_x/replay'],
      ['get', '/api/deliveries'],
      ['get', '/api/deliveries/msg_x'],
      ['post', '/api/deliveries/msg_x/retry'],
      ['post', '/api/deliveries/retry'],
    ] as const)('%s %s answers 401 without the API key', async (method, path) => {
      await hub.http()[method](path).expect(401);
      await hub.http()[method](path).set('authorization', 'Bearer wrong-key-0123456789abcdef').expect(401);
    });
  });

  describe('GET /api/events', () => {
    it('pages newest first with an opaque cursor, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listEvents(
          `sourceId=${salesAsk}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((e) => e.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toEqual(['r5', 'r4', 'r3', 'r2', 'r1'].map((tag) => recordings[tag]));
    });

    it('refuses a cursor it did not issue with 400', async () => {
      const answer = await hub.api().get('/api/events?cursor=not-a-cursor').expect(400);
      expect(answer.body).toMatchObject({ statusCode: 400, message: expect.stringContaining('cursor') });
    });

    it('filters by connector, vendor event type, vendor event id and status', async () => {
      expect((await listEvents('connector=askelephant')).items.map((e) => e.id)).toEqual([engagementEvent]);
      expect((await listEvents('connector=salesask')).items).toHaveLength(5);
      expect((await listEvents(`connector=salesask&sourceId=${askElephant}`)).items).toEqual([]);
      expect((await listEvents('vendorEventType=v1.engagement.updated')).items.map((e) => e.id)).toEqual([
        engagementEvent,
      ]);
      expect((await listEvents(`vendorEventId=${engagementVendorId}`)).items.map((e) => e.id)).toEqual([
        engagementEvent,
      ]);
      expect((await listEvents('status=normalized&limit=500')).items).toHaveLength(6);
      expect((await listEvents('status=failed')).items).toEqual([]);
      await hub.api().get('/api/events?status=bogus').expect(400);
    });

    it('filters by subject through the canonical events', async () => {
      const page = await listEvents(`subject=${encodeURIComponent('activity:salesask:rec_r3')}`);
      expect(page.items.map((e) => e.id)).toEqual([recordings.r3]);
      expect((await listEvents('subject=activity:salesask:nobody')).items).toEqual([]);
    });

    it('filters by time range on receipt', async () => {
      const [r2, r4] = [recordings.r2, recordings.r4].map(
        async (id) =>
          (await hub.sql<{ t: string }>('SELECT received_at AS t FROM inbound_event WHERE id = $1', [id]))[0].t,
      );
      const from = new Date(await r2).toISOString();
      const to = new Date(await r4).toISOString();
      // [r2, r4): r2 and r3 (r4 itself is excluded, unless it shares r2's millisecond, which the waits rule out).
      const page = await listEvents(`sourceId=${salesAsk}&from=${from}&to=${to}`);
      expect(page.items.map((e) => e.id)).toEqual([recordings.r3, recordings.r2]);
      await hub.api().get('/api/events?from=yesterday').expect(400);
    });

    it('filters by the test flag', async () => {
      const injected = await hub.api().post(`/api/sources/${salesAsk}/test`).send({ event: 'recording.processed' });
      expect(injected.status).toBeLessThan(300);
      await waitFor(() => sink.requests.length >= 7, { what: 'delivery of the test event' });
      const testOnly = await listEvents('test=true');
      expect(testOnly.items.map((e) => e.id)).toEqual([injected.body.id]);
      expect(testOnly.items[0].test).toBe(true);
      expect((await listEvents('test=false&limit=500')).items).toHaveLength(6);
      await hub.api().get('/api/events?test=maybe').expect(400);
    });
  });

  describe('GET /api/events/:id', () => {
    it('shows payload, redacted headers, verification scheme, canonical events, deliveries and response bodies', async () => {
      const shown = await detail(engagementEvent);
      expect(shown).toMatchObject({
        id: engagementEvent,
        connector: 'askelephant',
        verification: { scheme: 'standard-webhooks', toleranceSeconds: 300 },
        payloadFormat: 'json',
        payload: { id: engagementVendorId, type: 'v1.engagement.updated' },
        canonical: [{ type: 'activity.updated', revision: 0 }],
        deliveries: [{ destinationId: mainDestination, status: 'succeeded' }],
      });
      expect(shown.headers['x-vendor-token']).toBe('[redacted]');
      expect(JSON.stringify(shown)).not.toContain('tok_should_never_show');
      expect(shown.headers['svix-signature']).toBeDefined();

      const first = await detail(recordings.r1);
      expect(first.verification).toEqual({ scheme: 'url-token' });
      const toMain = first.deliveries.find((d: Delivery) => d.destinationId === mainDestination);
      expect(toMain.attempts_log).toEqual([
        expect.objectContaining({ attempt: 1, statusCode: 200, outcome: 'succeeded', responseBody: 'thanks for r1' }),
      ]);
      const toFlaky = first.deliveries.find((d: Delivery) => d.destinationId === flakyDestination);
      expect(toFlaky.status).toBe('exhausted');
      expect(toFlaky.attempts_log.map((a: Attempt) => a.responseBody)).toEqual(Array(5).fill('flaky is down'));
    });

    it('answers 404 for an unknown event', async () => {
      await hub.api().get('/api/events/in_doesnotexist').expect(404);
    });
  });

  describe('POST /api/events/:id/renormalize', () => {
    it('delivers nothing again when the output did not change', async () => {
      const before = sink.requests.length;
      const answer = await hub.api().post(`/api/events/${engagementEvent}/renormalize`).expect(202);
      expect(answer.body.id).toBe(engagementEvent);
      await waitFor(async () => (await detail(engagementEvent)).status === 'normalized', { what: 're-normalised' });
      await new Promise((r) => setTimeout(r, 500)); // a delivery would have been enqueued by now
      const shown = await detail(engagementEvent);
      expect(shown.canonical).toHaveLength(1);
      expect(shown.deliveries).toHaveLength(1);
      expect(sink.requests.length).toBe(before);
    });

    it('stores a changed output as a new revision, delivered under a new webhook-id', async () => {
      const original = await detail(recordings.r2);
      const originalDelivery = original.deliveries.find((d: Delivery) => d.destinationId === mainDestination);
      // What an older mapping stored: the same event with another title. The current mapping's output differs.
      await hub.sql(
        `UPDATE canonical_event SET event = jsonb_set(event::jsonb, '{data,title}', '"written by an old mapping"')::json
         WHERE inbound_event_id = $1`,
        [recordings.r2],
      );
      const before = sink.requests.length;
      await hub.api().post(`/api/events/${recordings.r2}/renormalize`).expect(202);
      await waitFor(() => sink.requests.length > before, { what: 'the new revision at the sink' });

      const received = sink.requests[sink.requests.length - 1];
      const sent = JSON.parse(received.body);
      expect(received.headers['webhook-id']).not.toBe(originalDelivery.id);
      expect(webhookIdsAt(sink)).toContain(originalDelivery.id);
      expect(sent.id).not.toBe(original.canonical[0].id);
      expect(sent.subject).toBe('activity:salesask:rec_r2');
      expect(sent.data.title).not.toBe('written by an old mapping');

      const shown = await detail(recordings.r2);
      expect(shown.canonical.map((c: { revision: number; id: string }) => c.revision)).toEqual([0, 1]);
      expect(shown.canonical[1].id).toBe(sent.id);
      const toMain = shown.deliveries.filter((d: Delivery) => d.destinationId === mainDestination);
      expect(toMain.map((d: Delivery) => d.id)).toEqual([originalDelivery.id, received.headers['webhook-id']]);
      expect(shown.deliveries.filter((d: Delivery) => d.destinationId === flakyDestination)).toHaveLength(2);
    });

    it('answers 404 for an unknown event', async () => {
      await hub.api().post('/api/events/in_doesnotexist/renormalize').expect(404);
    });
  });

  describe('POST /api/events/:id/replay', () => {
    it('re-delivers the stored canonical event under its original webhook-id', async () => {
      const original = (await detail(recordings.r3)).deliveries.find(
        (d: Delivery) => d.destinationId === mainDestination,
      );
      const before = sink.requests.length;
      const answer = await hub
        .api()
        .post(`/api/events/${recordings.r3}/replay`)
        .send({ destinationId: mainDestination })
        .expect(202);
      expect(answer.body).toEqual({ replayed: 1, deliveryIds: [original.id] });
      await waitFor(() => sink.requests.length > before, { what: 'the replay at the sink' });
      expect(sink.requests[sink.requests.length - 1].headers['webhook-id']).toBe(original.id);
      const replayed = await waitFor(
        async () => {
          const delivery = (await hub.api().get(`/api/deliveries/${original.id}`).expect(200)).body as Delivery;
          return delivery.status === 'succeeded' && delivery.attempts === 2 ? delivery : undefined;
        },
        { what: 'the replayed delivery to succeed' },
      );
      expect(replayed.attempts_log.map((a) => a.attempt)).toEqual([1, 2]);
    });

    it('creates the delivery for a destination that matches now but did not exist then', async () => {
      const late = await new Sink().start();
      try {
        const destination = await hub
          .api()
          .post('/api/destinations')
          .send({ name: 'late', type: 'webhook', url: late.url, eventTypes: ['activity.analyzed'] })
          .expect(201);
        const answer = await hub
          .api()
          .post(`/api/events/${recordings.r4}/replay`)
          .send({ destinationId: destination.body.id })
          .expect(202);
        expect(answer.body.replayed).toBe(1);
        await waitFor(() => late.requests.length === 1, { what: 'the late destination to receive r4' });
        expect(JSON.parse(late.requests[0].body).subject).toBe('activity:salesask:rec_r4');
        await hub.api().delete(`/api/destinations/${destination.body.id}`).expect(204);
      } finally {
        await late.stop();
      }
    });

    it('refuses a destination that does not exist or takes none of the events', async () => {
      await hub.api().post(`/api/events/${recordings.r4}/replay`).send({ destinationId: 'dst_nope' }).expect(404);
      const other = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'contacts only', type: 'webhook', url: sink.url, eventTypes: ['contact.*'] })
        .expect(201);
      const refused = await hub
        .api()
        .post(`/api/events/${recordings.r4}/replay`)
        .send({ destinationId: other.body.id })
        .expect(409);
      expect(refused.body.message).toContain('takes none');
      await hub.api().post('/api/events/in_doesnotexist/replay').send({}).expect(404);
      await hub.api().post(`/api/events/${recordings.r4}/replay`).send({ destinationId: 7 }).expect(400);
    });
  });

  describe('/api/deliveries', () => {
    it('filters by destination and status, pages with a cursor, and by time range', async () => {
      const exhausted = await deliveriesOf(flakyDestination, 'exhausted');
      expect(exhausted.length).toBeGreaterThanOrEqual(5);
      expect(exhausted.every((d) => d.destinationId === flakyDestination && d.status === 'exhausted')).toBe(true);
      expect(await deliveriesOf(mainDestination, 'exhausted')).toEqual([]);
      for (const status of ['superseded', 'unchanged']) {
        await hub.api().get(`/api/deliveries?status=${status}`).expect(200);
      }
      await hub.api().get('/api/deliveries?status=lost').expect(400);

      const all = await deliveriesOf(mainDestination);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = (
          await hub
            .api()
            .get(`/api/deliveries?destinationId=${mainDestination}&limit=3${cursor ? `&cursor=${cursor}` : ''}`)
            .expect(200)
        ).body as { items: Delivery[]; nextCursor?: string };
        seen.push(...page.items.map((d) => d.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((d) => d.id));
      expect(new Set(seen).size).toBe(seen.length);

      const future = new Date(Date.now() + 3600_000).toISOString();
      expect((await hub.api().get(`/api/deliveries?from=${future}`).expect(200)).body.items).toEqual([]);
      expect((await hub.api().get(`/api/deliveries?to=${future}&limit=500`).expect(200)).body.items.length).toBe(
        (await hub.sql('SELECT id FROM delivery')).length,
      );
      await hub.api().get('/api/deliveries?cursor=zzz').expect(400);
    });

    it('shows one delivery with its attempts and their response bodies', async () => {
      const [one] = await deliveriesOf(flakyDestination, 'exhausted');
      const shown = (await hub.api().get(`/api/deliveries/${one.id}`).expect(200)).body as Delivery;
      expect(shown.attempts_log).toHaveLength(5);
      expect(shown.attempts_log[4]).toMatchObject({
        statusCode: 500,
        outcome: 'exhausted',
        responseBody: 'flaky is down',
      });
      await hub.api().get('/api/deliveries/msg_doesnotexist').expect(404);
    });

    it('retries one exhausted delivery under the same webhook-id, with the whole retry schedule again', async () => {
      const [one] = await deliveriesOf(flakyDestination, 'exhausted');
      // Still failing: the retry gets the full schedule (5 attempts) again, numbered on from 6.
      await hub.api().post(`/api/deliveries/${one.id}/retry`).expect(202);
      const again = await waitFor(
        async () => {
          const d = (await hub.api().get(`/api/deliveries/${one.id}`).expect(200)).body as Delivery;
          return d.status === 'exhausted' && d.attempts === 10 ? d : undefined;
        },
        { what: 'the retried delivery to be exhausted again' },
      );
      expect(again.attempts_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

      flaky.fallback = { status: 200, body: 'flaky is back' };
      const answer = await hub.api().post(`/api/deliveries/${one.id}/retry`).expect(202);
      expect(answer.body.id).toBe(one.id);
      const done = await waitFor(
        async () => {
          const d = (await hub.api().get(`/api/deliveries/${one.id}`).expect(200)).body as Delivery;
          return d.status === 'succeeded' ? d : undefined;
        },
        { what: 'the retried delivery to succeed' },
      );
      expect(done.attempts_log[done.attempts_log.length - 1]).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
      expect(done.attempts).toBe(11);
      expect(webhookIdsAt(flaky).filter((id) => id === one.id).length).toBe(11);
      await hub.api().post('/api/deliveries/msg_doesnotexist/retry').expect(404);
    });

    it('retries in bulk by filter and reports the count', async () => {
      const exhausted = await deliveriesOf(flakyDestination, 'exhausted');
      expect(exhausted.length).toBeGreaterThan(0);
      const answer = await hub
        .api()
        .post('/api/deliveries/retry')
        .send({ destinationId: flakyDestination, status: 'exhausted' })
        .expect(202);
      expect(answer.body).toEqual({ retried: exhausted.length });
      await waitFor(async () => (await deliveriesOf(flakyDestination, 'exhausted')).length === 0, {
        what: 'every exhausted delivery to be retried',
      });
      for (const d of exhausted) expect(webhookIdsAt(flaky)).toContain(d.id);
      // Nothing left to retry: the count says so.
      const again = await hub
        .api()
        .post('/api/deliveries/retry')
        .send({ destinationId: flakyDestination, status: 'exhausted' })
        .expect(202);
      expect(again.body).toEqual({ retried: 0 });
      // Without a status only failures are retried: succeeded deliveries are not sent again.
      const before = sink.requests.length;
      const noStatus = await hub
        .api()
        .post('/api/deliveries/retry')
        .send({ destinationId: mainDestination })
        .expect(202);
      expect(noStatus.body).toEqual({ retried: 0 });
      expect(sink.requests.length).toBe(before);
      await hub.api().post('/api/deliveries/retry').send({ status: 'nope' }).expect(400);
    });

    it('refuses to retry a delivery that is already on its way', async () => {
      const [one] = await deliveriesOf(mainDestination, 'succeeded');
      await hub.sql(
        `UPDATE delivery SET status = 'retrying', next_attempt_at = now() + interval '1 hour' WHERE id = $1`,
        [one.id],
      );
      const refused = await hub.api().post(`/api/deliveries/${one.id}/retry`).expect(409);
      expect(refused.body.message).toContain('retrying');
    });
  });
});
