import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { SalesAskApiFake } from './fakes/salesask-api.fake';
import { addSink, postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';

type Analyzed = CloudEvent & {
  data: {
    transcript?: { segments: unknown[]; text: string };
    durationSeconds?: number;
    participants?: unknown[];
    customFields?: Record<string, unknown>;
  };
};

/**
 * Issue 12 end to end for Sales Ask: recording.processed goes in at the source URL (url-token), the hub fetches
 * GET /v1/recordings/:id with `x-api-key` from a fake Sales Ask API on loopback (the source's base URL overrides
 * the documented https://integrations.salesask.com), and the delivered activity.analyzed carries the transcript,
 * duration and participants. Then a throttle, a hang, a 401 and a fetch that keeps failing.
 */
describe('enrichment e2e: Sales Ask recording', () => {
  let hub: TestHub;
  let sink: Sink;
  let api: SalesAskApiFake;
  const apiKey = `sa_${randomBytes(12).toString('hex')}`;
  let sourceId: string;

  beforeAll(async () => {
    api = await new SalesAskApiFake(apiKey).start();
    hub = await startHub({ HUB_ENRICHMENT_RETRY_SCHEDULE: '0,0.2,0.2', HUB_ENRICHMENT_TIMEOUT: '1' });
    sink = await new Sink().start();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'Sales Ask EMEA', connector: 'salesask', enrichment: { apiKey, baseUrl: api.url } })
      .expect(201);
    sourceId = source.body.id;
    expect(source.body.enrichment).toEqual({ configured: true, baseUrl: api.url, events: ['recording.processed'] });
    expect(JSON.stringify(source.body)).not.toContain(apiKey);
    await addSink(hub, sink.url, ['activity.*']);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
    await api?.stop();
  });

  async function send(recordingId: string): Promise<string> {
    const response = await postSalesAsk(hub, sourceId, recordingId);
    return response.body.id as string;
  }

  const deliveredFor = (recordingId: string): Analyzed[] =>
    sink.requests
      .map((r) => JSON.parse(r.body) as Analyzed)
      .filter((e) => e.subject === `activity:salesask:${recordingId}`);

  const waitDelivered = (recordingId: string) =>
    waitFor(() => deliveredFor(recordingId).length >= 1 && deliveredFor(recordingId)[0], {
      what: `the sink to receive the event for ${recordingId}`,
    });

  const newRecording = () => `rec_${randomBytes(8).toString('hex')}`;

  it('fetches the recording with x-api-key and delivers transcript, duration and participants', async () => {
    const recording = newRecording();
    api.serveRecording(recording, [
      ['Rita Rep', 'Shall we go through pricing?'],
      ['John Doe', 'Yes, and the timeline.'],
    ]);
    const inboundId = await send(recording);

    const event = await waitDelivered(recording);
    expect(event).toMatchObject({ type: 'activity.analyzed', enrichment: 'enriched' });
    expect(event.data.transcript).toEqual({
      segments: [
        { speaker: 'Rita Rep', text: 'Shall we go through pricing?', at: '2026-03-09T15:00:00.000Z' },
        { speaker: 'John Doe', text: 'Yes, and the timeline.', at: '2026-03-09T15:00:05.000Z' },
      ],
      text: 'Rita Rep: Shall we go through pricing?\nJohn Doe: Yes, and the timeline.',
    });
    expect(event.data.durationSeconds).toBe(754);
    expect(event.data.participants).toEqual([
      { role: 'rep', name: 'Rita Rep', email: 'rita@seller.example' },
      { role: 'client', name: 'John Doe', email: 'john@buyer.example' },
    ]);
    // Fields of the recording with no canonical home keep their raw value.
    expect(event.data.customFields?.recording).toEqual({ status: 'processed', language: 'en' });
    expect(api.requestsFor(recording)).toEqual([
      expect.objectContaining({ method: 'GET', path: `/v1/recordings/${recording}`, authorized: true }),
    ]);
    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body.enrichment).toMatchObject({ status: 'enriched', attempts: 1 });
    expect(detail.body.enrichment.document.recording.id).toBe(recording);
  });

  it('waits out a throttle and cuts a hang at the deadline, then delivers enriched', async () => {
    const recording = newRecording();
    api.serveRecording(recording, [['Rita Rep', 'Third time lucky.']]);
    api.failNext({ kind: 'throttle', retryAfterSeconds: 1 }, { kind: 'hang' });
    await send(recording);

    const event = await waitDelivered(recording);
    expect(event.enrichment).toBe('enriched');
    expect(event.data.transcript?.text).toBe('Rita Rep: Third time lucky.');
    const [throttled, hung, fetched] = api.requestsFor(recording);
    expect(hung.at - throttled.at).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(fetched.at - hung.at).toBeGreaterThanOrEqual(950); // HUB_ENRICHMENT_TIMEOUT=1
  });

  it('fails fast on 401 naming the source, and delivers the webhook fields flagged', async () => {
    const recording = newRecording();
    api.serveRecording(recording, [['Rita Rep', 'never fetched']]);
    api.failNext({ kind: 'unauthorized' });
    await send(recording);

    const event = await waitDelivered(recording);
    expect(event.enrichment).toBe('failed');
    expect(event.enrichmenterror).toContain(`answered HTTP 401 for source "Sales Ask EMEA" (${sourceId})`);
    expect(event.data.transcript).toBeUndefined();
    expect(event.data).toMatchObject({ id: recording, kind: 'recording', title: 'Call with John Doe' });
    expect(api.requestsFor(recording)).toHaveLength(1);
  });

  it('after the last try, still delivers the event, flagged with the reason', async () => {
    const recording = newRecording();
    api.serveRecording(recording, [['Rita Rep', 'never fetched']]);
    api.failNext({ kind: 'fail', status: 500 }, { kind: 'fail', status: 502 }, { kind: 'fail', status: 503 });
    const inboundId = await send(recording);

    const event = await waitDelivered(recording);
    expect(event.enrichment).toBe('failed');
    expect(event.enrichmenterror).toMatch(/^gave up after 3 attempts; last: .*HTTP 503$/);
    expect(api.requestsFor(recording)).toHaveLength(3);
    const rows = await hub.sql<{ enrichment_status: string; enrichment_error_code: string }>(
      'SELECT enrichment_status, enrichment_error_code FROM inbound_event WHERE id = $1',
      [inboundId],
    );
    expect(rows[0]).toEqual({ enrichment_status: 'failed', enrichment_error_code: 'server_error' });
  });

  it('refuses enrichment settings that cannot work, with a 400 naming the problem', async () => {
    const refused = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bad', connector: 'salesask', enrichment: { apiKey, baseUrl: 'http://10.0.0.7' } })
      .expect(400);
    expect(refused.body.message).toContain('enrichment: baseUrl');
    expect(refused.body.message).toContain('HUB_OUTBOUND_ALLOW');
    const noBase = await hub
      .api()
      .post('/api/sources')
      .send({
        name: 'bad',
        connector: 'askelephant',
        secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
        enrichment: { apiKey },
      })
      .expect(400);
    expect(noBase.body.message).toContain('baseUrl is required');
    const noDeclaration = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bad', connector: 'asan', secrets: ['s3cret-value'], enrichment: { apiKey } })
      .expect(400);
    expect(noDeclaration.body.message).toContain('declares no enrichment');
    const badKey = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bad', connector: 'salesask', enrichment: { apiKey: 'abc\r\nx-injected: 1' } })
      .expect(400);
    expect(badKey.body.message).toContain('enrichment: apiKey contains a control character');
    expect(badKey.body.message).not.toContain('x-injected');
    expect(JSON.stringify([refused.body, noBase.body, noDeclaration.body])).not.toContain(apiKey);
  });

  it('removes the key with enrichment: null; later events are not enriched', async () => {
    const extra = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'Sales Ask temp', connector: 'salesask', enrichment: { apiKey, baseUrl: api.url } })
      .expect(201);
    const patched = await hub.api().patch(`/api/sources/${extra.body.id}`).send({ enrichment: null }).expect(200);
    expect(patched.body.enrichment).toMatchObject({ configured: false });
    const recording = newRecording();
    api.serveRecording(recording, [['Rita Rep', 'not fetched']]);
    await postSalesAsk(hub, extra.body.id, recording);
    const event = await waitDelivered(recording);
    expect(event.enrichment).toBeUndefined();
    expect(api.requestsFor(recording)).toHaveLength(0);
  });
});
