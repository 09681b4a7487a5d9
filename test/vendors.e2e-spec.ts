import { createHmac } from 'node:crypto';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { ConnectorDefinition } from '../src/connectors/connector';
import { ConnectorRegistry } from '../src/connectors/connector.registry';
import { projectForCase, samplesWithCases } from '../src/mappings/mapping-cases';
import { MappingService } from '../src/mappings/mapping.service';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { svixHeaders, whsec } from './helpers/vendors';

const registry = new ConnectorRegistry();
const mappingsRoot = new MappingService().root;

/** Secrets per scheme, and how the vendor would sign or authenticate one request. */
function credentialsFor(connector: ConnectorDefinition) {
  const settings = registry.settingsFor(connector, {});
  // The verifier's own description names the header with its default applied.
  const header = registry.verifierFor(connector).describe(settings).headers[0]?.toLowerCase();
  switch (connector.verification.scheme) {
    case 'standard-webhooks': {
      const secret = whsec();
      return { secrets: [secret], sign: (body: Buffer) => svixHeaders(secret, body) };
    }
    case 'hmac-sha256': {
      const secret = `${connector.id}-signing-secret`;
      return {
        secrets: [secret],
        sign: (body: Buffer) => ({ [header]: createHmac('sha256', secret).update(body).digest('hex') }),
      };
    }
    case 'header-token': {
      const token = `${connector.id}-token-0123456789`;
      return { secrets: [token], sign: () => ({ [header]: token }) };
    }
    case 'url-token':
      return { secrets: [], sign: () => ({}) };
  }
}

/**
 * Every connector, every sample: signed the way that vendor signs, sent over HTTP, and the stored canonical
 * events compared with the `.cases.json` expectations field by field. A sample without a case fails here too.
 */
describe('every vendor event e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  for (const connector of registry.list()) {
    describe(connector.id, () => {
      const credentials = credentialsFor(connector);
      let sourceId: string;

      beforeAll(async () => {
        const source = await hub
          .api()
          .post('/api/sources')
          .send({ name: connector.name, connector: connector.id, secrets: credentials.secrets })
          .expect(201);
        sourceId = source.body.id;
      });

      for (const { event, sample, case: expected } of samplesWithCases(mappingsRoot, connector)) {
        it(`${event} (${sample}) maps to its case through HTTP`, async () => {
          if (!expected) throw new Error(`no case in mappings/${connector.id}/${event}.cases.json names ${sample}`);
          const body = registry.sample(connector, sample);
          const response = await hub
            .http()
            .post(`/hooks/${sourceId}`)
            .set({ 'content-type': 'application/json', ...credentials.sign(body) })
            .send(body.toString())
            .expect(202);

          const inbound = await waitFor(
            async () =>
              (
                await hub.sql<{ status: string; error: string | null; received_at: Date; occurred_at: Date | null }>(
                  'SELECT status, error, received_at, occurred_at FROM inbound_event WHERE id = $1',
                  [response.body.id],
                )
              ).find((row) => row.status !== 'received'),
            { what: `${sample} to be normalised` },
          );
          expect(inbound.error).toBeNull();
          const stored = await hub.sql<{ event: CloudEvent }>(
            'SELECT event FROM canonical_event WHERE inbound_event_id = $1 ORDER BY index',
            [response.body.id],
          );
          const events = stored.map((row) => row.event);
          expect(events.map((e, i) => projectForCase(e, expected.expect[i] ?? e))).toEqual(expected.expect);
          for (const e of events) {
            expect(e.connector).toBe(connector.id);
            expect(e.vendoreventtype).toBe(event);
            expect(e.source).toBe(`switchboard/sources/${sourceId}`);
            // DESIGN §4: time is when it happened at the vendor, else (Sales Ask) the receipt time.
            expect(e.time).toBe((inbound.occurred_at ?? inbound.received_at).toISOString());
          }
        });
      }
    });
  }

  it('POST /api/sources/:id/test runs a sample through the pipeline as a test event, to opted-in destinations only', async () => {
    const optedIn = await new Sink().start();
    const regular = await new Sink().start();
    try {
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'tests welcome', type: 'webhook', url: optedIn.url, eventTypes: ['*'], includeTest: true })
        .expect(201);
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'real only', type: 'webhook', url: regular.url, eventTypes: ['*'] })
        .expect(201);
      const source = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AE test', connector: 'askelephant', secrets: [whsec()] });
      const answer = await hub
        .api()
        .post(`/api/sources/${source.body.id}/test`)
        .send({ event: 'v1.engagement.transcript_timeline.completed' })
        .expect(202);
      expect(answer.body).toMatchObject({ id: expect.stringMatching(/^in_/), test: true });
      const received = await waitFor(() => optedIn.requests[0], { what: 'the test event at the opted-in sink' });
      expect(JSON.parse(received.body)).toMatchObject({ type: 'activity.transcribed', test: true });
      // Running the same test twice is two events, not a duplicate.
      await hub.api().post(`/api/sources/${source.body.id}/test`).send({ event: 'v1.tag.created' }).expect(202);
      await waitFor(() => optedIn.requests.length >= 2, { what: 'the second test event' });
      await new Promise((r) => setTimeout(r, 300));
      expect(regular.requests).toHaveLength(0);

      await hub.api().post(`/api/sources/${source.body.id}/test`).send({ event: 'v1.nope' }).expect(400);
      await hub
        .api()
        .post(`/api/sources/${source.body.id}/test`)
        .send({ event: 'v1.tag.created', sample: 'other.json' })
        .expect(400);
      await hub
        .api()
        .post('/api/sources/src_000000000000000000000x/test')
        .send({ event: 'v1.tag.created' })
        .expect(404);
    } finally {
      for (const d of (await hub.api().get('/api/destinations')).body as { id: string }[]) {
        await hub.api().delete(`/api/destinations/${d.id}`);
      }
      await optedIn.stop();
      await regular.stop();
    }
  });

  it('GET /api/connectors describes every connector, its events and what a source needs', async () => {
    const listed = await hub.api().get('/api/connectors').expect(200);
    const byId = Object.fromEntries(listed.body.map((c: { id: string }) => [c.id, c]));
    // Every connector on disk is listed; a sixth vendor added in files alone shows up without a test change.
    expect(Object.keys(byId).sort()).toEqual(
      registry
        .list()
        .map((c) => c.id)
        .sort(),
    );
    expect(Object.keys(byId)).toEqual(
      expect.arrayContaining(['asan', 'askelephant', 'salesask', 'salescaling', 'telephony']),
    );
    expect(byId.askelephant.events).toHaveLength(13);
    expect(byId.asan.events).toHaveLength(7);
    expect(byId.telephony.events).toHaveLength(6);
    expect(byId.salesask.events).toHaveLength(2);
    expect(byId.salescaling.events).toHaveLength(3);
    expect(byId.askelephant.verification).toMatchObject({ scheme: 'standard-webhooks', secretsRequired: true });
    expect(byId.asan.verification).toMatchObject({ scheme: 'hmac-sha256', headers: ['X-Asan-Signature'] });
    expect(byId.salesask.verification).toMatchObject({ scheme: 'url-token', secretsRequired: false });
    expect(byId.salescaling.alternativeVerification).toEqual([
      expect.objectContaining({ scheme: 'hmac-sha256', headers: ['X-Webhook-Signature'] }),
    ]);
    const samples = await hub.api().get('/api/connectors/telephony/samples').expect(200);
    expect(samples.body.map((s: { event: string }) => s.event)).toEqual(
      expect.arrayContaining(['call_initiated', 'call_ringing', 'call_answered', 'transcript', 'call_ended', 'error']),
    );
    await hub.api().get('/api/connectors/nope/samples').expect(404);
  });

  it('lets a Salescaling source opt into hmac-sha256 on X-Webhook-Signature', async () => {
    const secret = 'salescaling-hmac-secret';
    const source = await hub
      .api()
      .post('/api/sources')
      .send({
        name: 'Salescaling signed',
        connector: 'salescaling',
        secrets: [secret],
        verification: { scheme: 'hmac-sha256' },
      })
      .expect(201);
    const body = registry.sample(registry.get('salescaling'), 'commercial_signal_detected.json');
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set({ 'content-type': 'application/json', 'x-webhook-signature': `sha256=${signature}` })
      .send(body.toString())
      .expect(202);
    await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set({ 'content-type': 'application/json', 'x-webhook-token': secret })
      .send(body.toString())
      .expect(401);
    await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bad', connector: 'asan', secrets: ['x'.repeat(10)], verification: { scheme: 'url-token' } })
      .expect(400);
  });

  it('marks an Asan "Test Webhook" delivery (data.test) as a test event that regular destinations skip', async () => {
    const sink = await new Sink().start();
    try {
      const destination = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'leads', type: 'webhook', url: sink.url, eventTypes: ['lead.*'] })
        .expect(201);
      const secret = 'asan-test-flag-secret';
      const source = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'Asan', connector: 'asan', secrets: [secret] });
      const asan = registry.get('asan');
      const send = async (file: string) => {
        const body = registry.sample(asan, file);
        const signature = createHmac('sha256', secret).update(body).digest('hex');
        const answer = await hub
          .http()
          .post(`/hooks/${source.body.id}`)
          .set({ 'content-type': 'application/json', 'x-asan-signature': signature })
          .send(body.toString())
          .expect(202);
        return answer.body.id as string;
      };
      const testId = await send('lead.created.test.json');
      const realId = await send('lead.created.json');
      const received = await waitFor(() => sink.requests[0], { what: 'the real lead at the sink' });
      expect(JSON.parse(received.body)).toMatchObject({ type: 'lead.created', test: false });
      const detail = await hub.api().get(`/api/events/${testId}`).expect(200);
      expect(detail.body).toMatchObject({
        test: true,
        status: 'normalized',
        canonical: [{ test: true }],
        deliveries: [],
      });
      const real = await hub.api().get(`/api/events/${realId}`).expect(200);
      expect(real.body.deliveries).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.requests).toHaveLength(1);
      await hub.api().delete(`/api/destinations/${destination.body.id}`).expect(204);
    } finally {
      await sink.stop();
    }
  });
});
