import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { InboundEventService } from '../src/ingest/inbound-event.service';
import { AskElephantApiFake } from './fakes/askelephant-api.fake';
import { addSink, deleteQueueKeys, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

type Transcribed = CloudEvent & { data: { transcript?: { segments: unknown[]; text: string } } };

/**
 * Issue 12 end to end for AskElephant: a Svix-signed v1.engagement.transcript_timeline.completed goes in, the hub
 * fetches GET /v2/engagements/{id}/transcript_timeline from a fake AskElephant API on loopback with the source's
 * key, and the CloudEvent delivered to a sink carries the transcript. Then the ways the fetch goes wrong.
 */
describe('enrichment e2e: AskElephant transcript timeline', () => {
  let hub: TestHub;
  let sink: Sink;
  let api: AskElephantApiFake;
  const vendorSecret = whsec();
  const apiKey = `ae_${randomBytes(12).toString('hex')}`;
  let sourceId: string;
  let plainSourceId: string;

  beforeAll(async () => {
    api = await new AskElephantApiFake(apiKey).start();
    // Three tries (0, 0.2 s, 0.2 s apart) and a one-second deadline keep the failure paths short.
    hub = await startHub({ HUB_ENRICHMENT_RETRY_SCHEDULE: '0,0.2,0.2', HUB_ENRICHMENT_TIMEOUT: '1' });
    sink = await new Sink().start();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({
        name: 'AskElephant prod',
        connector: 'askelephant',
        secrets: [vendorSecret],
        enrichment: { apiKey, baseUrl: api.url },
      })
      .expect(201);
    sourceId = source.body.id;
    // Write-only: the API says a key is configured, never what it is.
    expect(source.body.enrichment).toEqual({
      configured: true,
      baseUrl: api.url,
      events: ['v1.engagement.transcript_timeline.completed'],
    });
    expect(JSON.stringify(source.body)).not.toContain(apiKey);
    const plain = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'AskElephant without key', connector: 'askelephant', secrets: [vendorSecret] })
      .expect(201);
    plainSourceId = plain.body.id;
    expect(plain.body.enrichment).toMatchObject({ configured: false });
    await addSink(hub, sink.url, ['activity.*']);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
    await api?.stop();
  });

  /** The sample with a fresh event id (the dedup key) and engagement id. */
  function transcriptReady(engagementId: string): string {
    const body = JSON.parse(sample('askelephant', 'v1.engagement.transcript_timeline.completed.json').toString());
    body.id = `evt_${randomBytes(8).toString('hex')}`;
    body.data.object.id = engagementId;
    return JSON.stringify(body);
  }

  async function send(engagementId: string, to = sourceId): Promise<string> {
    const body = transcriptReady(engagementId);
    const response = await hub.http().post(`/hooks/${to}`).set(svixHeaders(vendorSecret, body)).send(body).expect(202);
    return response.body.id as string;
  }

  const deliveredFor = (engagementId: string): Transcribed[] =>
    sink.requests
      .map((r) => JSON.parse(r.body) as Transcribed)
      .filter((e) => e.subject === `activity:askelephant:${engagementId}`);

  const waitDelivered = (engagementId: string, count = 1) =>
    waitFor(() => deliveredFor(engagementId).length >= count && deliveredFor(engagementId), {
      what: `the sink to receive ${count} event(s) for ${engagementId}`,
    });

  const newEngagement = () => `ngmt_${randomBytes(8).toString('hex')}`;

  it('fetches the timeline with the source key and delivers the transcript in the CloudEvent', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [
      ['Jane Doe', 'Thanks for joining.'],
      ['Omar Reyes', 'The Acme deal moved to negotiation.'],
    ]);
    const inboundId = await send(engagement);

    const [event] = await waitDelivered(engagement);
    expect(event).toMatchObject({ type: 'activity.transcribed', enrichment: 'enriched' });
    expect(event.enrichmenterror).toBeUndefined();
    expect(event.data.transcript).toEqual({
      segments: [
        { speaker: 'Jane Doe', text: 'Thanks for joining.', at: '2026-03-09T14:00:00.000Z' },
        { speaker: 'Omar Reyes', text: 'The Acme deal moved to negotiation.', at: '2026-03-09T14:00:04.000Z' },
      ],
      text: 'Jane Doe: Thanks for joining.\nOmar Reyes: The Acme deal moved to negotiation.',
    });
    expect(api.requestsFor(engagement)).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: `/v2/engagements/${engagement}/transcript_timeline`,
        authorized: true,
      }),
    ]);

    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body).toMatchObject({
      status: 'normalized',
      enrichmentStatus: 'enriched',
      enrichment: { status: 'enriched', attempts: 1, truncated: false },
    });
    expect(detail.body.enrichment.document.transcriptTimeline.segments).toHaveLength(2);
    expect(JSON.stringify(detail.body)).not.toContain(apiKey);
    expect(hub.logs.join('')).not.toContain(apiKey);
  });

  it('waits out a throttle: the retry comes no sooner than Retry-After', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Jane Doe', 'After the throttle.']]);
    api.failNext({ kind: 'throttle', retryAfterSeconds: 1 });
    await send(engagement);

    const [event] = await waitDelivered(engagement);
    expect(event.enrichment).toBe('enriched');
    expect(event.data.transcript?.text).toBe('Jane Doe: After the throttle.');
    const [throttled, retried] = api.requestsFor(engagement);
    // The schedule alone would retry after 0.2 s; the vendor asked for 1 s.
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(950);
  });

  it('cuts a hanging fetch at the deadline and retries it', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Omar Reyes', 'Sorry, I was frozen.']]);
    api.failNext({ kind: 'hang' });
    const inboundId = await send(engagement);

    const [event] = await waitDelivered(engagement);
    expect(event.enrichment).toBe('enriched');
    expect(event.data.transcript?.text).toBe('Omar Reyes: Sorry, I was frozen.');
    const [hung, retried] = api.requestsFor(engagement);
    expect(retried.at - hung.at).toBeGreaterThanOrEqual(950); // HUB_ENRICHMENT_TIMEOUT=1
    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body.enrichment).toMatchObject({ status: 'enriched', attempts: 2 });
  });

  it('fails fast on 401, names the source, and still delivers the event flagged', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Jane Doe', 'never fetched']]);
    api.failNext({ kind: 'unauthorized' });
    const inboundId = await send(engagement);

    const [event] = await waitDelivered(engagement);
    expect(event).toMatchObject({ type: 'activity.transcribed', enrichment: 'failed' });
    expect(event.data.transcript).toBeUndefined();
    expect(event.enrichmenterror).toContain('HTTP 401');
    expect(event.enrichmenterror).toContain(`source "AskElephant prod" (${sourceId})`);
    // Non-retryable: one request, no second try.
    expect(api.requestsFor(engagement)).toHaveLength(1);
    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body).toMatchObject({
      status: 'normalized',
      enrichmentStatus: 'failed',
      enrichment: { status: 'failed', attempts: 1, errorCode: 'unauthorized' },
    });
    const failed = await hub.api().get(`/api/events?enrichment=failed&sourceId=${sourceId}`).expect(200);
    expect(failed.body.items.map((e: { id: string }) => e.id)).toContain(inboundId);

    // The issues view groups it by source and code; its action fetches again, and the fixed key delivers the
    // transcript as a new revision.
    const issues = await hub.api().get('/api/issues').expect(200);
    const group = issues.body.groups.find(
      (g: { kind: string; key: { sourceId?: string; code?: string } }) =>
        g.kind === 'enrichment' && g.key.sourceId === sourceId && g.key.code === 'unauthorized',
    );
    expect(group).toMatchObject({
      title: expect.stringContaining('AskElephant prod: enrichment failed, unauthorized'),
      action: { kind: 'retry' },
    });
    expect(group.sampleIds).toContain(inboundId);
    const acted = await hub.api().post(`/api/issues/${group.id}/action`).expect(202);
    expect(acted.body).toEqual({ kind: 'retry', count: group.count });
    const [, corrected] = await waitDelivered(engagement, 2);
    expect(corrected).toMatchObject({ enrichment: 'enriched' });
    expect(corrected.data.transcript?.text).toContain('never fetched');
    await hub.api().get(`/api/issues/${group.id}`).expect(404);
  });

  it('after the last try, delivers the event without the transcript, flagged with the reason', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Jane Doe', 'never fetched']]);
    api.failNext({ kind: 'fail', status: 503 }, { kind: 'fail', status: 503 }, { kind: 'fail', status: 503 });
    const inboundId = await send(engagement);

    const [event] = await waitDelivered(engagement);
    expect(event.enrichment).toBe('failed');
    expect(event.enrichmenterror).toMatch(/^gave up after 3 attempts; last: AskElephant API .* answered HTTP 503$/);
    expect(event.data.transcript).toBeUndefined();
    expect(api.requestsFor(engagement)).toHaveLength(3);
    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body.enrichment).toMatchObject({ status: 'failed', attempts: 3, errorCode: 'server_error' });

    // The seam the issues view groups on: one group per source and reason code, newest sample first.
    const groups = await hub.app.get(InboundEventService).enrichmentFailureGroups();
    expect(groups).toContainEqual(
      expect.objectContaining({ sourceId, code: 'server_error', count: 1, sampleIds: [inboundId] }),
    );
    // The 401 of the test before was fetched again through its issues group, so it is no longer failing.
    expect(groups).not.toContainEqual(expect.objectContaining({ sourceId, code: 'unauthorized' }));
    await expect(hub.app.get(InboundEventService).enrichmentFailures(sourceId, 'server_error', 10)).resolves.toEqual([
      inboundId,
    ]);
  });

  it('re-normalise reuses the stored document; POST /enrich fetches again and delivers the new transcript', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Jane Doe', 'First version.']]);
    const inboundId = await send(engagement);
    await waitDelivered(engagement);

    await hub.api().post(`/api/events/${inboundId}/renormalize`).expect(202);
    await waitFor(async () => (await hub.api().get(`/api/events/${inboundId}`)).body.status === 'normalized', {
      what: 're-normalise to finish',
    });
    expect(api.requestsFor(engagement)).toHaveLength(1); // no new fetch
    expect(deliveredFor(engagement)).toHaveLength(1); // same output: nothing delivered again

    api.serveTimeline(engagement, [['Jane Doe', 'Corrected version.']]);
    const enriched = await hub.api().post(`/api/events/${inboundId}/enrich`).expect(202);
    expect(enriched.body).toEqual({ id: inboundId, status: 'received', enrichmentStatus: 'pending' });
    const events = await waitDelivered(engagement, 2);
    expect(api.requestsFor(engagement)).toHaveLength(2);
    expect(events[1].data.transcript?.text).toBe('Jane Doe: Corrected version.');
    expect(events[1].id).not.toBe(events[0].id); // a new revision
  });

  it('does not strand an event when Redis loses its scheduled fetch: the reconciler picks it up', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Omar Reyes', 'Recovered.']]);
    api.failNext({ kind: 'throttle', retryAfterSeconds: 2 });
    const inboundId = await send(engagement);
    await waitFor(() => api.requestsFor(engagement).length === 1, { what: 'the first fetch' });
    // "Flush Redis" for this hub while the retry waits there.
    await new Promise((r) => setTimeout(r, 200));
    await deleteQueueKeys(hub.config.queuePrefix);

    const [event] = await waitDelivered(engagement);
    expect(event.enrichment).toBe('enriched');
    expect(event.data.transcript?.text).toBe('Omar Reyes: Recovered.');
    const rows = await hub.sql<{ enrichment_status: string }>(
      'SELECT enrichment_status FROM inbound_event WHERE id = $1',
      [inboundId],
    );
    expect(rows[0].enrichment_status).toBe('enriched');
  });

  it('leaves a source without an API key exactly as before: no fetch, no enrichment attribute', async () => {
    const engagement = newEngagement();
    api.serveTimeline(engagement, [['Jane Doe', 'not for this source']]);
    const inboundId = await send(engagement, plainSourceId);

    const [event] = await waitDelivered(engagement);
    expect(event.enrichment).toBeUndefined();
    expect(event.data.transcript).toBeUndefined();
    expect(api.requestsFor(engagement)).toHaveLength(0);
    const detail = await hub.api().get(`/api/events/${inboundId}`).expect(200);
    expect(detail.body.enrichment).toBeUndefined();
    expect(detail.body.enrichmentStatus).toBeUndefined();
    await hub.api().post(`/api/events/${inboundId}/enrich`).expect(409);
  });
});
