import { markerFor } from '../src/destinations/adapters/pipedrive/pipedrive-text';
import { PipedriveFake, startPipedriveFake } from './fakes/pipedrive.fake';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { asanHeaders, sample, svixHeaders, whsec } from './helpers/vendors';

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  subject: string;
  type: string;
}

const TERMINAL = ['succeeded', 'failed', 'exhausted', 'superseded', 'unchanged'];

/**
 * Pipedrive end to end: real vendor webhooks (AskElephant company and contact, the telephony call from initiated to
 * ended, Asan lead, call and meeting) into a real hub (Postgres, Redis, workers), Pipedrive records out of the fake
 * with their associations. Then replay, out-of-order updates, apply-then-drop, a throttle and a validation error.
 */
describe('Pipedrive CRM destination e2e', () => {
  let hub: TestHub;
  let fake: PipedriveFake;
  let destinationId: string;
  const askSecret = whsec();
  const asanSecret = 'asan-signing-secret';
  const telephonyToken = 'telephony-token-0123456789';
  const sources: Record<string, string> = {};
  let repId: number;

  beforeAll(async () => {
    hub = await startHub();
    fake = await startPipedriveFake();
    // The rep's own line already exists in Pipedrive: matched by one phone search.
    repId = fake.seedPerson({ name: 'Rep line', phones: [{ value: '+905555555555', primary: true }] }).id;
    for (const [connector, secrets] of [
      ['askelephant', [askSecret]],
      ['asan', [asanSecret]],
      ['telephony', [telephonyToken]],
    ] as const) {
      const created = await hub.api().post('/api/sources').send({ name: connector, connector, secrets }).expect(201);
      sources[connector] = created.body.id;
    }
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({
        name: 'pipedrive',
        type: 'pipedrive',
        config: { baseUrl: fake.url, token: fake.token },
        eventTypes: ['*'],
        // The telephony document's samples are test calls.
        includeTest: true,
      })
      .expect(201);
    destinationId = destination.body.id;
    expect(JSON.stringify(destination.body)).not.toContain(fake.token);
  });

  afterAll(async () => {
    await hub?.close();
    await fake?.stop();
  });

  const post = async (connector: 'askelephant' | 'asan' | 'telephony', body: string): Promise<string> => {
    const headers: Record<string, string> =
      connector === 'askelephant'
        ? svixHeaders(askSecret, body)
        : connector === 'asan'
          ? asanHeaders(asanSecret, body)
          : { 'content-type': 'application/json', 'x-webhook-token': telephonyToken };
    const response = await hub.http().post(`/hooks/${sources[connector]}`).set(headers).send(body);
    expect([200, 202]).toContain(response.status);
    return response.body.id as string;
  };

  const deliveriesOf = (inboundId: string) =>
    hub.sql<DeliveryRow>(
      `SELECT d.id, d.status, d.attempts, d.last_error, c.event->>'subject' AS subject, c.event->>'type' AS type
       FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
       WHERE c.inbound_event_id = $1 AND d.destination_id = $2`,
      [inboundId, destinationId],
    );

  /** Sends one webhook and waits until each of its deliveries to Pipedrive is settled. */
  const deliver = async (connector: 'askelephant' | 'asan' | 'telephony', body: string): Promise<DeliveryRow[]> => {
    const inboundId = await post(connector, body);
    return waitFor(
      async () => {
        const rows = await deliveriesOf(inboundId);
        return rows.length > 0 && rows.every((r) => TERMINAL.includes(r.status)) && rows;
      },
      { what: `deliveries of ${connector} ${inboundId}`, timeoutMs: 20_000 },
    );
  };

  const attemptsOf = (deliveryId: string) =>
    hub.sql<{
      attempt_no: number;
      status_code: number | null;
      error: string | null;
      outcome: string;
      started_at: Date;
    }>(
      `SELECT attempt_no, status_code, error, outcome, started_at FROM delivery_attempt WHERE delivery_id = $1 ORDER BY attempt_no`,
      [deliveryId],
    );

  const text = (connector: string, file: string) => sample(connector, file).toString();
  /** The telephony samples' callee is Jane's number from the AskElephant contact, so the call links to her. */
  const telephony = (file: string) => text('telephony', file).split('+905555555554').join('+1234567890');
  const asanCall = (callId: number) =>
    JSON.stringify({
      ...JSON.parse(text('asan', 'call.completed.json')),
      data: { call_id: callId, lead_id: 12345, duration: 65 },
    });
  const counts = () => ({
    persons: fake.persons.size,
    organizations: fake.organizations.size,
    activities: fake.activities.size,
    notes: fake.notes.size,
  });

  const webhooks: [connector: 'askelephant' | 'asan' | 'telephony', body: string][] = [];

  it('vendor webhooks in, Pipedrive records out with their associations', async () => {
    webhooks.push(
      ['askelephant', text('askelephant', 'v1.company.created.json')],
      ['askelephant', text('askelephant', 'v1.contact.created.json')],
      ['askelephant', text('askelephant', 'v1.contact.updated.json')],
      ['telephony', telephony('call_initiated.json')],
      ['telephony', telephony('call_ringing.json')],
      ['telephony', telephony('call_answered.json')],
      ['telephony', telephony('transcript.json')],
      ['telephony', telephony('call_ended.json')],
      ['asan', text('asan', 'lead.created.json')],
      ['asan', text('asan', 'call.completed.json')],
      ['asan', text('asan', 'meeting.booked.json')],
    );
    const settled: DeliveryRow[] = [];
    // In dependency order, one webhook at a time: company, contact, then the activities.
    for (const [connector, body] of webhooks) settled.push(...(await deliver(connector, body)));

    // Ringing and answered change nothing Pipedrive shows (same payload hash); a live segment waits for the end.
    expect(settled.filter((d) => d.status !== 'succeeded').map((d) => [d.type, d.status])).toEqual([
      ['activity.updated', 'unchanged'],
      ['activity.updated', 'unchanged'],
      ['activity.transcript_segment', 'unchanged'],
    ]);
    expect(counts()).toEqual({ persons: 2, organizations: 1, activities: 3, notes: 0 });

    const org = [...fake.organizations.values()][0];
    expect(org.name).toBe('Acme Corp');
    // AskElephant's Jane and Asan's lead share jane@example.com: one Pipedrive person, matched by email.
    const jane = [...fake.persons.values()].find((p) => p.id !== repId)!;
    expect(jane.emails.map((e) => e.value)).toEqual(['jane@example.com']);
    expect(jane.org_id).toBe(org.id);

    const [call, asan, meeting] = [...fake.activities.values()];
    expect(call).toMatchObject({
      type: 'call',
      done: true,
      subject: 'Call (telephony 1)',
      person_id: repId,
      participants: [
        { person_id: repId, primary: true },
        { person_id: jane.id, primary: false },
      ],
    });
    expect(call.note).toContain('Transcript:<br>ai: Greeting message<br>customer: customer message 1');
    expect(call.note).toContain(markerFor('activity:telephony:1'));
    expect(asan).toMatchObject({ type: 'call', done: true, duration: '00:04', person_id: jane.id });
    expect(asan.note).toContain('Recording: https://recordings.example.com/asan/calls/67890.mp3');
    expect(meeting).toMatchObject({
      type: 'meeting',
      done: false,
      due_date: '2026-06-18',
      due_time: '15:00',
      person_id: jane.id,
    });
  });

  it('replay leaves the record counts unchanged: re-posted webhooks and re-delivered events', async () => {
    const before = counts();
    const writes = fake.writes().length;
    for (const [connector, body] of webhooks) await post(connector, body);

    // Re-deliver every delivery of this destination: the reconciler picks them up again.
    await hub.sql(
      `UPDATE delivery SET status = 'pending', next_attempt_at = now(), locked_until = NULL WHERE destination_id = $1`,
      [destinationId],
    );
    const rows = await waitFor(
      async () => {
        const all = await hub.sql<DeliveryRow & { attempts: number }>(
          `SELECT d.id, d.status, d.attempts, c.event->>'type' AS type FROM delivery d
           JOIN canonical_event c ON c.id = d.canonical_event_id WHERE d.destination_id = $1`,
          [destinationId],
        );
        return all.every((r) => TERMINAL.includes(r.status) && r.status !== 'succeeded') && all;
      },
      { what: 're-deliveries to settle', timeoutMs: 20_000 },
    );
    expect(new Set(rows.map((r) => r.status))).toEqual(new Set(['unchanged', 'superseded']));
    expect(counts()).toEqual(before);
    expect(fake.writes().length).toBe(writes);
  });

  it('out-of-order contact.updated events end at the newest state', async () => {
    const base = JSON.parse(text('askelephant', 'v1.contact.updated.json'));
    const version = (evt: string, firstName: string, updatedAt: string) =>
      JSON.stringify({
        ...base,
        id: evt,
        created_at: updatedAt,
        data: {
          ...base.data,
          object: {
            ...base.data.object,
            id: 'cnt_out_of_order',
            first_name: firstName,
            emails: [{ email: 'ooo@example.com', is_primary: true }],
            phone_numbers: [],
            updated_at: updatedAt,
          },
        },
      });
    const [newest] = await deliver('askelephant', version('evt_ooo_2', 'Newest', '2026-03-12T00:00:00.000Z'));
    const [older] = await deliver('askelephant', version('evt_ooo_1', 'Older', '2026-03-10T00:00:00.000Z'));
    expect(newest.status).toBe('succeeded');
    expect(older.status).toBe('superseded');
    const people = [...fake.persons.values()].filter((p) => p.emails.some((e) => e.value === 'ooo@example.com'));
    expect(people.map((p) => p.name)).toEqual(['Newest Doe']);
  });

  it('apply-then-drop leaves one record', async () => {
    fake.inject({ kind: 'apply-then-drop' }, { method: 'POST', path: '/api/v2/activities' });
    const before = fake.activities.size;
    const [delivery] = await deliver('asan', asanCall(70001));
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(fake.activities.size).toBe(before + 1);
    const marked = [...fake.activities.values()].filter((a) => a.note?.includes(markerFor('activity:asan:70001')));
    expect(marked).toHaveLength(1);
    const attempts = await attemptsOf(delivery.id);
    expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: null });
  });

  it('a throttle is waited out', async () => {
    fake.inject({ kind: 'throttle', retryAfterSeconds: 1 }, { method: 'POST', path: '/api/v2/activities' });
    const [delivery] = await deliver('asan', asanCall(70002));
    expect(delivery.status).toBe('succeeded');
    const attempts = await attemptsOf(delivery.id);
    expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: 429 });
    expect(attempts.at(-1)).toMatchObject({ outcome: 'succeeded' });
    // Retry-After: 1 was honoured rather than the 0.2 s schedule.
    expect(attempts[1].started_at.getTime() - attempts[0].started_at.getTime()).toBeGreaterThanOrEqual(900);
    expect(
      [...fake.activities.values()].filter((a) => a.note?.includes(markerFor('activity:asan:70002'))),
    ).toHaveLength(1);
  });

  it('a validation error is not retried: failed after one attempt with the CRM message', async () => {
    fake.inject(
      { kind: 'reject', error: 'Subject is too long', errorInfo: 'Please check developers.pipedrive.com' },
      { method: 'POST', path: '/api/v2/activities' },
    );
    const before = fake.activities.size;
    const [delivery] = await deliver('asan', asanCall(70003));
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery.last_error).toContain('Subject is too long');
    const attempts = await attemptsOf(delivery.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status_code: 400, outcome: 'failed' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await attemptsOf(delivery.id)).toHaveLength(1);
    expect(fake.activities.size).toBe(before);
  });
});
