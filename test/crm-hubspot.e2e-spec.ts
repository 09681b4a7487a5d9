import { startHub, TestHub, waitFor } from './helpers/hub';
import { asanHeaders, sample, svixHeaders, whsec } from './helpers/vendors';
import { HubspotFake, startHubspotFake } from './fakes/hubspot.fake';

type Row = { id: string; status: string; attempts: number; last_error: string | null; type: string; subject: string };

/**
 * Real vendor webhooks in, HubSpot records out (issue 8), through a real hub (Postgres, Redis) and a fake HubSpot
 * on loopback that speaks HubSpot's documented shapes and rate-limit answers.
 */
describe('HubSpot destination e2e', () => {
  let hub: TestHub;
  let fake: HubspotFake;
  const askSecret = whsec();
  const asanSecret = 'asan-signing-secret';
  const telephonyToken = 'telephony-token-0123456789';
  const sources: Record<string, string> = {};
  let destinationId: string;

  beforeAll(async () => {
    fake = await startHubspotFake();
    hub = await startHub({ HUB_DELIVERY_TIMEOUT: '4' });
    for (const [connector, secrets] of [
      ['askelephant', [askSecret]],
      ['asan', [asanSecret]],
      ['telephony', [telephonyToken]],
    ] as const) {
      const res = await hub.api().post('/api/sources').send({ name: connector, connector, secrets }).expect(201);
      sources[connector] = res.body.id;
    }
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({
        name: 'hubspot',
        type: 'hubspot',
        config: { baseUrl: fake.url, token: fake.token },
        eventTypes: ['*'],
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

  async function send(connector: 'askelephant' | 'asan' | 'telephony', body: string): Promise<string> {
    const headers: Record<string, string> =
      connector === 'askelephant'
        ? svixHeaders(askSecret, body)
        : connector === 'asan'
          ? asanHeaders(asanSecret, body)
          : { 'x-webhook-token': telephonyToken };
    const res = await hub
      .http()
      .post(`/hooks/${sources[connector]}`)
      .set({ 'content-type': 'application/json', ...headers })
      .send(body);
    expect([200, 202]).toContain(res.status);
    return res.body.id;
  }

  /** Every delivery of these inbound events has reached a final state. */
  async function settled(inboundIds: string[]): Promise<Row[]> {
    return waitFor(
      async () => {
        const rows = await hub.sql<Row>(
          `SELECT d.id, d.status, d.attempts, d.last_error, c.event->>'type' AS type, c.event->>'subject' AS subject
           FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
           WHERE c.inbound_event_id = ANY($1) ORDER BY d.created_at`,
          [inboundIds],
        );
        const inbound = await hub.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = ANY($1)', [
          inboundIds,
        ]);
        const normalised = inbound.length === inboundIds.length && inbound.every((r) => r.status !== 'received');
        return normalised &&
          rows.length > 0 &&
          rows.every((r) => !['pending', 'sending', 'retrying'].includes(r.status))
          ? rows
          : undefined;
      },
      { timeoutMs: 30_000, what: 'deliveries to settle' },
    );
  }

  const attempts = (deliveryId: string) =>
    hub.sql<{ outcome: string; error: string | null; status_code: number | null; response_body: string | null }>(
      'SELECT outcome, error, status_code, response_body FROM delivery_attempt WHERE delivery_id = $1 ORDER BY attempt_no',
      [deliveryId],
    );

  /** The telephony samples, with the callee's number set to the Asan lead's, so the call matches that contact. */
  const telephony = (file: string) => sample('telephony', file).toString().replaceAll('+905555555554', '+14165551234');
  const TELEPHONY_CALL = [
    'call_initiated.json',
    'call_ringing.json',
    'call_answered.json',
    'transcript.json',
    'call_ended.json',
  ];

  it('vendor webhooks become HubSpot companies, contacts and calls with their associations', async () => {
    // Dependency order as the vendors send it: company, contact, lead, then the calls.
    const company = await settled([
      await send('askelephant', sample('askelephant', 'v1.company.created.json').toString()),
    ]);
    expect(company.map((r) => r.status)).toEqual(['succeeded']);
    await settled([await send('askelephant', sample('askelephant', 'v1.contact.created.json').toString())]);
    await settled([await send('askelephant', sample('askelephant', 'v1.contact.updated.json').toString())]);
    await settled([await send('asan', sample('asan', 'lead.created.json').toString())]);
    const calls: string[] = [await send('asan', sample('asan', 'call.completed.json').toString())];
    for (const file of TELEPHONY_CALL) calls.push(await send('telephony', telephony(file)));
    const rows = await settled(calls);
    expect(rows.filter((r) => r.status === 'failed' || r.status === 'exhausted')).toEqual([]);
    // The segment is not written on its own: the call gets the whole transcript with activity.completed.
    expect(rows.find((r) => r.type === 'activity.transcript_segment')?.status).toBe('unchanged');

    const companies = fake.list('companies');
    expect(companies).toHaveLength(1);
    expect(companies[0].properties).toMatchObject({ domain: 'acme.com', name: 'Acme Corp', numberofemployees: '250' });
    const contacts = fake.list('contacts');
    expect(contacts).toHaveLength(1); // AskElephant's contact and Asan's lead share jane@example.com
    const jane = contacts[0];
    expect(jane.properties).toMatchObject({
      email: 'jane@example.com',
      lastname: expect.any(String),
      phone: '+14165551234',
    });
    expect(fake.associationsOf('contacts', jane.id)).toEqual([
      { fromType: 'contacts', fromId: jane.id, toType: 'companies', toId: companies[0].id, typeId: 279 },
    ]);

    // The external-id property was created on first use, unique.
    expect(fake.properties.get('calls')!.get('switchboard_external_id')).toMatchObject({ hasUniqueValue: true });
    expect(fake.list('calls')).toHaveLength(2);
    const asanCall = fake.find('calls', 'switchboard_external_id', 'activity:asan:67890')!;
    expect(asanCall.properties).toMatchObject({
      hs_call_duration: '184000',
      hs_call_recording_url: 'https://recordings.example.com/asan/calls/67890.mp3',
      hs_call_status: 'COMPLETED',
      hs_timestamp: '2026-06-16T15:10:00.000Z',
    });
    expect(fake.associationsOf('calls', asanCall.id)).toEqual([
      { fromType: 'calls', fromId: asanCall.id, toType: 'contacts', toId: jane.id, typeId: 194 },
    ]);
    const phoneCall = fake.find('calls', 'switchboard_external_id', 'activity:telephony:1')!;
    expect(phoneCall.properties).toMatchObject({
      hs_call_status: 'COMPLETED',
      hs_call_direction: 'OUTBOUND',
      hs_call_from_number: '+905555555555',
      hs_call_to_number: '+14165551234',
    });
    expect(phoneCall.properties.hs_call_body).toContain('customer: customer message 1');
    // Matched by E.164 phone (the lead's), the other party recorded as unmatched.
    expect(fake.associationsOf('calls', phoneCall.id)).toEqual([
      { fromType: 'calls', fromId: phoneCall.id, toType: 'contacts', toId: jane.id, typeId: 194 },
    ]);
    const logs = await Promise.all(rows.filter((r) => r.subject === 'activity:telephony:1').map((r) => attempts(r.id)));
    const bodies = logs.flat().map((a) => a.response_body ?? '');
    expect(bodies.some((b) => b.includes('"unmatched":["phone:+905555555555"]'))).toBe(true);
  });

  it('replaying the webhooks and re-delivering every event leaves the record counts unchanged', async () => {
    const before = { contacts: fake.list('contacts').length, calls: fake.list('calls').length, companies: 1 };
    const associations = fake.associations.length;
    // The same webhooks again, re-serialised so they are new inbound events (a vendor re-sending them).
    const replays: string[] = [];
    for (const file of TELEPHONY_CALL) replays.push(await send('telephony', `${telephony(file)}\n`));
    replays.push(await send('asan', `${sample('asan', 'lead.created.json').toString()}\n`));
    const replayed = await settled(replays);
    expect(replayed.every((r) => ['unchanged', 'superseded'].includes(r.status))).toBe(true);
    // And every delivery ever made, re-delivered by the reconciler.
    await hub.sql(`UPDATE delivery SET status = 'pending', next_attempt_at = now() - interval '1 minute'`);
    const all = await hub.sql<{ id: string }>('SELECT id FROM inbound_event');
    const redelivered = await settled(all.map((r) => r.id));
    expect(redelivered.every((r) => ['unchanged', 'superseded'].includes(r.status))).toBe(true);
    expect({ contacts: fake.list('contacts').length, calls: fake.list('calls').length, companies: 1 }).toEqual(before);
    expect(fake.list('companies')).toHaveLength(1);
    expect(fake.associations).toHaveLength(associations);
  });

  it('out-of-order contact.updated events end at the newest state; the older one is superseded', async () => {
    const base = JSON.parse(sample('askelephant', 'v1.contact.updated.json').toString());
    const version = (id: string, at: string, firstName: string) =>
      JSON.stringify({
        ...base,
        id,
        created_at: at,
        data: { ...base.data, object: { ...base.data.object, first_name: firstName, updated_at: at } },
      });
    const newest = await send('askelephant', version('evt_ooo_newest', '2026-04-01T00:00:00.000Z', 'Newest'));
    await settled([newest]);
    const older = await send('askelephant', version('evt_ooo_older', '2026-03-20T00:00:00.000Z', 'Older'));
    const [row] = await settled([older]);
    expect(row.status).toBe('superseded');
    expect(fake.find('contacts', 'email', 'jane@example.com')!.properties.firstname).toBe('Newest');
  });

  it('a write HubSpot applied before the connection dropped leaves one record', async () => {
    const contacts = fake.list('contacts').length;
    fake.inject({ kind: 'drop-after-apply' }, /batch\/upsert$/);
    const body = sample('asan', 'lead.created.json')
      .toString()
      .replace('12345', '22222')
      .replace('jane@example.com', 'drop@example.com');
    const [row] = await settled([await send('asan', body)]);
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(fake.list('contacts')).toHaveLength(contacts + 1);
    expect(fake.list('contacts').filter((c) => c.properties.email === 'drop@example.com')).toHaveLength(1);
  });

  it('a throttle (429 RATE_LIMIT) is waited out', async () => {
    fake.inject({ kind: 'throttle', retryAfterSeconds: 1 }, /batch\/upsert$/);
    const body = sample('asan', 'lead.created.json')
      .toString()
      .replace('12345', '33333')
      .replace('jane@example.com', 'throttle@example.com');
    const [row] = await settled([await send('asan', body)]);
    expect(row.status).toBe('succeeded');
    const log = await attempts(row.id);
    expect(log[0]).toMatchObject({ outcome: 'retry', status_code: 429 });
    expect(log[0].error).toContain('RATE_LIMIT');
    expect(fake.find('contacts', 'email', 'throttle@example.com')).toBeDefined();
  });

  it("a validation error is not retried: failed after one attempt, with HubSpot's message", async () => {
    fake.inject({ kind: 'validation', message: 'Property values were not valid: phone is bad' }, /batch\/upsert$/);
    const body = sample('asan', 'lead.created.json')
      .toString()
      .replace('12345', '44444')
      .replace('jane@example.com', 'invalid@example.com');
    const [row] = await settled([await send('asan', body)]);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    const log = await attempts(row.id);
    expect(log).toHaveLength(1);
    expect(log[0].error).toContain('Property values were not valid: phone is bad');
    expect(fake.find('contacts', 'email', 'invalid@example.com')).toBeUndefined();
  });

  it('deletes and types with no HubSpot object are unchanged, with the reason', async () => {
    const [row] = await settled([
      await send('askelephant', sample('askelephant', 'v1.contact.deleted.json').toString()),
    ]);
    expect(row.status).toBe('unchanged');
    expect(row.last_error).toContain('does not delete');
    expect(destinationId).toMatch(/^dst_/);
  });
});
