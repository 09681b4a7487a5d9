import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { QueueName } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

/** The spine end to end: AskElephant (Svix-signed) in, a signed CloudEvent out to a real sink on loopback. */
describe('pipeline e2e', () => {
  let hub: TestHub;
  let sink: Sink;
  const vendorSecret = whsec();
  let sourceId: string;
  let destinationSecret: string;

  beforeAll(async () => {
    hub = await startHub();
    sink = await new Sink().start();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'AskElephant', connector: 'askelephant', secrets: [vendorSecret] })
      .expect(201);
    sourceId = source.body.id;
    expect(source.body.url).toBe(`${hub.baseUrl}/hooks/${sourceId}`);
    expect(sourceId).toMatch(/^src_[0-9A-Za-z]{22}$/);
    expect(JSON.stringify(source.body)).not.toContain(vendorSecret);

    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'sink', type: 'webhook', url: sink.url, eventTypes: ['activity.*'], headers: { 'x-team': 'ops' } })
      .expect(201);
    destinationSecret = destination.body.secret;
    expect(destinationSecret).toMatch(/^whsec_/);
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  /** POSTs a body to the AskElephant source, signed the way Svix signs. */
  const sendSigned = (body: Buffer) =>
    hub.http().post(`/hooks/${sourceId}`).set(svixHeaders(vendorSecret, body)).send(body.toString());

  it('delivers a signed canonical activity.updated for v1.engagement.updated', async () => {
    const body = sample('askelephant', 'v1.engagement.updated.json');
    const vendor = JSON.parse(body.toString());
    const response = await sendSigned(body).expect(202);
    expect(response.body).toEqual({ id: expect.stringMatching(/^in_/) });

    await waitFor(() => sink.requests.length >= 1, { what: 'the sink to receive the event' });
    const received = sink.requests[0];
    // The sink verifies the outbound signature with the standardwebhooks library, as a receiver would.
    const verified = new StandardWebhook(destinationSecret).verify(received.body, {
      'webhook-id': String(received.headers['webhook-id']),
      'webhook-timestamp': String(received.headers['webhook-timestamp']),
      'webhook-signature': String(received.headers['webhook-signature']),
    }) as CloudEvent & { data: Record<string, unknown> & { changes?: object } };
    expect(received.headers['x-team']).toBe('ops');
    expect(received.headers['content-type']).toBe('application/json');

    const engagement = vendor.data.object;
    expect(verified).toMatchObject({
      specversion: '1.0',
      id: expect.stringMatching(/^evt_/),
      type: 'activity.updated',
      source: `switchboard/sources/${sourceId}`,
      subject: `activity:askelephant:${engagement.id}`,
      time: new Date(vendor.created_at).toISOString(),
      datacontenttype: 'application/json',
      connector: 'askelephant',
      vendoreventtype: 'v1.engagement.updated',
      vendoreventid: vendor.id,
      test: false,
    });
    expect(verified.data).toMatchObject({
      id: engagement.id,
      kind: engagement.engagement_type.toLowerCase(),
      title: engagement.title,
      startedAt: engagement.start_at,
      endedAt: engagement.end_at,
      durationSeconds: engagement.duration_seconds,
      updatedAt: engagement.updated_at,
    });
    expect(Object.keys(verified.data.changes ?? {}).length).toBeGreaterThan(0);

    // The sink answers before the hub records the attempt: wait for the row to settle.
    const row = await waitFor(
      async () =>
        (
          await hub.sql<{ status: string; attempts: number }>('SELECT status, attempts FROM delivery WHERE id = $1', [
            received.headers['webhook-id'],
          ])
        ).find((r) => r.status !== 'sending'),
      { what: 'the delivery to settle' },
    );
    expect(row).toEqual({ status: 'succeeded', attempts: 1 });
    const [inbound] = await hub.sql<{ status: string; vendor_event_id: string; normalize_attempts: number }>(
      'SELECT status, vendor_event_id, normalize_attempts FROM inbound_event WHERE id = $1',
      [response.body.id],
    );
    // Issue 11: the one try was counted as the event was stored (no normalise-start statement), and only once.
    expect(inbound).toEqual({ status: 'normalized', vendor_event_id: vendor.id, normalize_attempts: 1 });
    // Issue 11: a process that runs workers normalised what it had just committed itself, with no normalize job.
    const normalizeQueue = hub.app.get(PipelineQueue).queue(QueueName.Normalize);
    expect(await normalizeQueue.getJob(response.body.id)).toBeUndefined();
  });

  it('collapses concurrent duplicates of one delivery onto one stored event', async () => {
    const body = sample('askelephant', 'v1.engagement.created.json');
    const headers = svixHeaders(vendorSecret, body);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => hub.http().post(`/hooks/${sourceId}`).set(headers).send(body.toString())),
    );
    const created = answers.filter((a) => a.status === 202);
    const duplicates = answers.filter((a) => a.status === 200);
    expect(created).toHaveLength(1);
    expect(duplicates).toHaveLength(19);
    for (const duplicate of duplicates) expect(duplicate.body).toEqual({ id: created[0].body.id, duplicate: true });

    const rows = await hub.sql('SELECT id FROM inbound_event WHERE vendor_event_id = $1', [
      JSON.parse(body.toString()).id,
    ]);
    expect(rows).toHaveLength(1);
    // The duplicates gave back the normalisation they had been promised: the one event is normalised once.
    const [settled] = await waitFor(
      async () => {
        const found = await hub.sql<{ status: string; normalize_attempts: number }>(
          'SELECT status, normalize_attempts FROM inbound_event WHERE id = $1',
          [created[0].body.id],
        );
        return found[0].status !== 'received' && found;
      },
      { what: 'the event to be normalised' },
    );
    expect(settled).toEqual({ status: 'normalized', normalize_attempts: 1 });
    const outputs = await hub.sql('SELECT id FROM canonical_event WHERE inbound_event_id = $1', [created[0].body.id]);
    expect(outputs).toHaveLength(1);
  });

  it('stores concurrent distinct events each once, and answers each with its own row', async () => {
    // Inserts made together share one statement (group commit): each answer must still name its own event.
    const bodies = Array.from({ length: 40 }, (_, i) => {
      const vendor = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
      vendor.id = `evt_batch_${i}_${Date.now()}`;
      vendor.data.object.title = `batch ${i}`;
      return Buffer.from(JSON.stringify(vendor));
    });
    const answers = await Promise.all(bodies.map((body) => sendSigned(body)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const rows = await hub.sql<{ id: string; vendor_event_id: string; body: Buffer }>(
      'SELECT id, vendor_event_id, body FROM inbound_event WHERE id = ANY($1::text[])',
      [answers.map((a) => a.body.id)],
    );
    expect(rows).toHaveLength(40);
    const byId = new Map(rows.map((row) => [row.id, row]));
    answers.forEach((answer, i) => {
      const row = byId.get(answer.body.id)!;
      expect(row.vendor_event_id).toBe(JSON.parse(bodies[i].toString()).id);
      expect(row.body.equals(bodies[i])).toBe(true);
    });
  });

  it('answers a small event while the inserts of large bodies wait on Postgres', async () => {
    const event = (id: string, padding = 0) => {
      const vendor = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
      vendor.id = id;
      if (padding) vendor.data.object.notes = 'n'.repeat(padding);
      return Buffer.from(JSON.stringify(vendor));
    };
    // 700 KB each: no two fit one batch, so two inserts take both slots of the large bodies and the third waits.
    const stamp = Date.now();
    const large = [0, 1, 2].map((i) => ({
      id: `evt_large_${i}_${stamp}`,
      body: event(`evt_large_${i}_${stamp}`, 700_000),
    }));
    // Another transaction holds rows with their dedup keys, uncommitted: their inserts wait on it.
    const blocker = new Client({ connectionString: hub.config.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      for (const { id } of large) {
        await blocker.query(
          `INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, headers, body)
           VALUES ($1, $2, $3, 'v1.engagement.updated', '{}', '\\x7b7d')`,
          [`in_blocker_${id}`, sourceId, `id:${id}`],
        );
      }
      const largeAnswers = large.map(({ body }) => sendSigned(body).then((r) => r.status));
      await waitFor(
        async () =>
          (
            await hub.sql<{ waiting: number }>(
              `SELECT count(*)::int AS waiting FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO inbound_event%'`,
            )
          )[0].waiting === 2,
        { what: 'two large inserts waiting on the uncommitted rows' },
      );
      const small = sendSigned(event(`evt_small_${stamp}`)).then((r) => r.status);
      const outcome = await Promise.race([small, sleep(15_000, 'still waiting after 15 s', { ref: false })]);
      expect(outcome).toBe(202);

      await blocker.query('ROLLBACK');
      expect(await Promise.all(largeAnswers)).toEqual([202, 202, 202]);
      const stored = await hub.sql<{ vendor_event_id: string; bytes: number }>(
        'SELECT vendor_event_id, length(body) AS bytes FROM inbound_event WHERE vendor_event_id = ANY($1) ORDER BY 1',
        [large.map(({ id }) => id)],
      );
      expect(stored).toEqual(large.map(({ id, body }) => ({ vendor_event_id: id, bytes: body.length })));
    } finally {
      await blocker.end();
    }
  });

  it('dedups on the AskElephant envelope id even when Svix re-signs a retry', async () => {
    const body = sample('askelephant', 'v1.engagement.deleted.json');
    const first = await sendSigned(body).expect(202);
    const retry = await sendSigned(body).expect(200);
    expect(retry.body).toEqual({ id: first.body.id, duplicate: true });
  });

  it('accepts Sales Ask on its url-token source and emits activity.analyzed', async () => {
    const source = await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201);
    const body = sample('salesask', 'recording.processed.json');
    const before = sink.requests.length;
    await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set('content-type', 'application/json')
      .send(body.toString())
      .expect(202);
    const received = await waitFor(
      () => sink.requests.slice(before).find((r) => JSON.parse(r.body).connector === 'salesask'),
      { what: 'the Sales Ask event at the sink' },
    );
    const event = JSON.parse(received.body);
    const vendor = JSON.parse(body.toString());
    expect(event.type).toBe('activity.analyzed');
    expect(event.subject).toBe(`activity:salesask:${vendor.data.id}`);
    expect(event.data).toMatchObject({ id: vendor.data.id, kind: 'recording', meetingUrl: vendor.data.meetingUrl });
    expect(event.data.actionItems).toEqual(
      expect.arrayContaining([expect.objectContaining({ owner: 'rep' }), expect.objectContaining({ owner: 'client' })]),
    );
  });

  it('marks an event whose type has no mapping failed, with the reason, and delivers nothing', async () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 'evt_unknown_1',
        type: 'v1.widget.created',
        created_at: new Date().toISOString(),
        data: { object: {} },
      }),
    );
    const response = await sendSigned(body).expect(202);
    const row = await waitFor(
      async () =>
        (
          await hub.sql<{ status: string; error: string }>('SELECT status, error FROM inbound_event WHERE id = $1', [
            response.body.id,
          ])
        ).find((r) => r.status === 'failed'),
      { what: 'the inbound event to fail' },
    );
    expect(row.error).toContain('No mapping for askelephant/v1.widget.created');

    // Re-normalise puts it back through the pipeline (here it fails again: the mapping is still missing).
    const listed = await hub.api().get('/api/events?status=failed').expect(200);
    expect(listed.body.items.map((e: { id: string }) => e.id)).toContain(response.body.id);
    await hub.api().post(`/api/events/${response.body.id}/renormalize`).expect(202);
    await waitFor(async () => (await hub.api().get(`/api/events/${response.body.id}`)).body.status === 'failed', {
      what: 'the re-normalised event to fail again',
    });
  });

  it('shows an event with its canonical output, deliveries and attempts', async () => {
    const [row] = await hub.sql<{ id: string }>(
      `SELECT id FROM inbound_event WHERE vendor_event_type = 'v1.engagement.updated'`,
    );
    const detail = await hub.api().get(`/api/events/${row.id}`).expect(200);
    expect(detail.body).toMatchObject({
      id: row.id,
      status: 'normalized',
      vendorEventType: 'v1.engagement.updated',
      payload: { type: 'v1.engagement.updated' },
      canonical: [{ type: 'activity.updated' }],
      deliveries: [
        { status: 'succeeded', attempts: 1, attempts_log: [{ attempt: 1, statusCode: 200, outcome: 'succeeded' }] },
      ],
    });
    expect(detail.body.headers['svix-signature']).toBeDefined();
    // Re-normalising a delivered event with an unchanged mapping is accepted and sends nothing again (issue 9).
    await hub.api().post(`/api/events/${row.id}/renormalize`).expect(202);
    await hub.api().get('/api/events/in_doesnotexist').expect(404);
  });

  it('stores an event with its canonical output and deliveries in one commit when a mapping thread is free', async () => {
    const vendor = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
    vendor.id = `evt_one_commit_${Date.now()}`;
    const before = sink.requests.length;
    const response = await sendSigned(Buffer.from(JSON.stringify(vendor))).expect(202);
    // Read at once after the ack: the output is there already, written by the transaction that stored the event.
    const rows = await hub.sql<{ stored: string; status: string; output: string; delivery: string }>(
      `SELECT i.xmin::text AS stored, i.status, c.xmin::text AS output, d.id AS delivery
       FROM inbound_event i JOIN canonical_event c ON c.inbound_event_id = i.id
       JOIN delivery d ON d.canonical_event_id = c.id WHERE i.id = $1`,
      [response.body.id],
    );
    expect(rows).toEqual([
      { stored: rows[0]?.output, status: 'normalized', output: expect.any(String), delivery: expect.any(String) },
    ]);
    const received = await waitFor(
      () => sink.requests.slice(before).find((r) => r.headers['webhook-id'] === rows[0].delivery),
      {
        what: 'the delivery at the sink',
      },
    );
    expect(JSON.parse(received.body)).toMatchObject({ type: 'activity.updated', vendoreventid: vendor.id });
    const [inbound] = await hub.sql<{ normalize_attempts: number }>(
      'SELECT normalize_attempts FROM inbound_event WHERE id = $1',
      [response.body.id],
    );
    expect(inbound.normalize_attempts).toBe(1);
  });

  it('still stores an event whose output Postgres refuses, and fails it with the reason', async () => {
    // A NUL in the recording id reaches the canonical subject, which no text or jsonb column takes: the statement
    // that stores the event with its output fails, so the event is stored alone and normalised the usual way.
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'Sales Ask NUL', connector: 'salesask' })
      .expect(201);
    const vendor = JSON.parse(sample('salesask', 'recording.processed.json').toString());
    vendor.data.id = 'rec_a\u0000b';
    const body = JSON.stringify(vendor);
    const before = sink.requests.length;
    const response = await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set('content-type', 'application/json')
      .send(body)
      .expect(202);
    const row = await waitFor(
      async () =>
        (
          await hub.sql<{ status: string; error: string; body: Buffer }>(
            'SELECT status, error, body FROM inbound_event WHERE id = $1',
            [response.body.id],
          )
        ).find((r) => r.status === 'failed'),
      { what: 'the event to fail' },
    );
    expect(row.body.toString()).toBe(body);
    expect(row.error).toMatch(/^normalisation failed while storing its canonical events: ./);
    expect(await hub.sql('SELECT id FROM canonical_event WHERE inbound_event_id = $1', [response.body.id])).toEqual([]);
    expect(sink.requests.slice(before).filter((r) => r.body.includes('rec_a'))).toEqual([]);
  });
});

describe('pipeline e2e, api role', () => {
  it('an api-only process hands each committed event to the normalize queue', async () => {
    const hub = await startHub({ HUB_ROLE: 'api' });
    try {
      const secret = whsec();
      const source = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AskElephant', connector: 'askelephant', secrets: [secret] })
        .expect(201);
      const body = sample('askelephant', 'v1.engagement.updated.json');
      const response = await hub
        .http()
        .post(`/hooks/${source.body.id}`)
        .set(svixHeaders(secret, body))
        .send(body.toString())
        .expect(202);
      const job = await hub.app.get(PipelineQueue).queue(QueueName.Normalize).getJob(response.body.id);
      expect(job?.data).toEqual({ inboundEventId: response.body.id });
      const [row] = await hub.sql<{ status: string; normalize_attempts: number; last_attempt_at: Date | null }>(
        'SELECT status, normalize_attempts, last_attempt_at FROM inbound_event WHERE id = $1',
        [response.body.id],
      );
      // No try is counted at ingest here: the worker that takes the job counts it.
      expect(row).toEqual({ status: 'received', normalize_attempts: 0, last_attempt_at: null });
    } finally {
      await hub.close();
    }
  });
});
