import { SalesforceAdapter } from '../src/destinations/adapters/salesforce/salesforce.adapter';
import { SalesforceFake, startSalesforceFake } from './fakes/salesforce.fake';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { asanHeaders, sample, svixHeaders, whsec } from './helpers/vendors';

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  type: string;
  subject: string;
  inbound: string;
}

/**
 * Issue 8 proof for Salesforce: real vendor webhooks (AskElephant, the telephony custom webhook, Asan) go into a
 * real hub (Postgres, Redis, the real ledger) and come out as records in a fake Salesforce org that answers like
 * the REST API, with their associations; then replay, out-of-order updates, apply-then-drop, a throttle and a
 * validation error.
 */
describe('Salesforce destination e2e', () => {
  let hub: TestHub;
  let fake: SalesforceFake;
  let adapter: SalesforceAdapter;
  let destinationId: string;
  const sources: Record<string, string> = {};
  const askSecret = whsec();
  const asanSecret = 'asan-signing-secret';
  const telephonyToken = 'telephony-token-0123456789';

  const postAskElephant = (body: string) =>
    hub.http().post(`/hooks/${sources.askelephant}`).set(svixHeaders(askSecret, body)).send(body);
  const postAsan = (body: string) =>
    hub.http().post(`/hooks/${sources.asan}`).set(asanHeaders(asanSecret, body)).send(body);
  const postTelephony = (body: string) =>
    hub
      .http()
      .post(`/hooks/${sources.telephony}`)
      .set({ 'content-type': 'application/json', 'x-webhook-token': telephonyToken })
      .send(body);

  /** Every inbound event normalised and every delivery settled. */
  const settle = (what: string) =>
    waitFor(
      async () => {
        const [open] = await hub.sql<{ inbound: string; deliveries: string }>(
          `SELECT (SELECT count(*) FROM inbound_event WHERE status = 'received') AS inbound,
                  (SELECT count(*) FROM delivery WHERE status IN ('pending', 'retrying', 'sending')) AS deliveries`,
        );
        return Number(open.inbound) === 0 && Number(open.deliveries) === 0;
      },
      { what, timeoutMs: 30_000 },
    );

  const deliveriesOf = (inboundId: string) =>
    hub.sql<DeliveryRow>(
      `SELECT d.id, d.status, d.attempts, c.event->>'type' AS type, c.event->>'subject' AS subject,
              c.inbound_event_id AS inbound
       FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
       WHERE c.inbound_event_id = $1 ORDER BY c.index`,
      [inboundId],
    );

  const attemptsOf = (deliveryId: string) =>
    hub.sql<{ outcome: string; status_code: number | null; error: string | null }>(
      `SELECT outcome, status_code, error FROM delivery_attempt WHERE delivery_id = $1 ORDER BY attempt_no`,
      [deliveryId],
    );

  const counts = () =>
    Object.fromEntries(['Account', 'Contact', 'Lead', 'Task', 'Event'].map((s) => [s, fake.all(s).length]));

  /** The AskElephant contact sample, as the callee of the telephony call and a member of the Acme company. */
  const askContact = (overrides: Record<string, unknown> = {}, envelope: Record<string, unknown> = {}) => {
    const body = JSON.parse(sample('askelephant', 'v1.contact.created.json').toString());
    Object.assign(body.data.object, {
      phone_numbers: [{ phone_number: '+905555555554', is_primary: true }],
      company: 'cmp_01JWASVYFTNMX88FPEPZ38YKJF',
      ...overrides,
    });
    return JSON.stringify({ ...body, ...envelope });
  };

  const asanLead = (id: number, name: string) =>
    JSON.stringify({
      event: 'lead.created',
      timestamp: '2026-06-17T09:00:00Z',
      data: { lead_id: id, name, email: `lead${id}@example.com` },
    });

  beforeAll(async () => {
    hub = await startHub();
    fake = await startSalesforceFake();
    adapter = hub.app.get(SalesforceAdapter);
    // A real org's REQUEST_LIMIT_EXCEEDED backoff is 30 s; the test waits a fraction of that.
    adapter.options.otherLimitBackoffMs = 300;
    for (const [connector, secrets] of [
      ['askelephant', [askSecret]],
      ['asan', [asanSecret]],
      ['telephony', [telephonyToken]],
    ] as const) {
      const source = await hub.api().post('/api/sources').send({ name: connector, connector, secrets }).expect(201);
      sources[connector] = source.body.id;
    }
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({
        name: 'Salesforce',
        type: 'salesforce',
        config: { instanceUrl: fake.url, token: fake.token },
        eventTypes: ['*'],
        // The telephony document's samples are test calls.
        includeTest: true,
      })
      .expect(201);
    destinationId = destination.body.id;
    expect(destination.body.config).toEqual({
      instanceUrl: fake.url,
      apiVersion: '60.0',
      externalIdField: 'Switchboard_Id__c',
    });
    expect(JSON.stringify(destination.body)).not.toContain(fake.token);
  });

  afterAll(async () => {
    await hub?.close();
    await fake?.stop();
  });

  const inbound: Record<string, string> = {};

  it('writes company, contact, lead, calls and meetings with their associations', async () => {
    inbound.company = (
      await postAskElephant(sample('askelephant', 'v1.company.created.json').toString()).expect(202)
    ).body.id;
    await settle('the company');
    inbound.contact = (await postAskElephant(askContact()).expect(202)).body.id;
    await settle('the contact');
    for (const event of ['call_initiated', 'call_ringing', 'call_answered', 'transcript', 'call_ended']) {
      inbound[event] = (await postTelephony(sample('telephony', `${event}.json`).toString()).expect(202)).body.id;
    }
    inbound.lead = (await postAsan(sample('asan', 'lead.created.json').toString()).expect(202)).body.id;
    await settle('the calls and the lead');
    inbound.asanCall = (await postAsan(sample('asan', 'call.completed.json').toString()).expect(202)).body.id;
    inbound.asanMeeting = (await postAsan(sample('asan', 'meeting.booked.json').toString()).expect(202)).body.id;
    inbound.meeting = (
      await postAskElephant(sample('askelephant', 'v1.engagement.created.json').toString()).expect(202)
    ).body.id;
    await settle('the activities');

    expect(counts()).toEqual({ Account: 1, Contact: 1, Lead: 1, Task: 2, Event: 2 });
    const [account] = fake.all('Account');
    const [contact] = fake.all('Contact');
    const [lead] = fake.all('Lead');
    expect(account).toMatchObject({
      Name: 'Acme Corp',
      Website: 'https://acme.com',
      Switchboard_Id__c: 'company:askelephant:cmp_01JWASVYFTNMX88FPEPZ38YKJF',
    });
    expect(contact).toMatchObject({
      FirstName: 'Jane',
      LastName: 'Doe',
      AccountId: account.Id,
      Phone: '+905555555554',
    });
    expect(lead).toMatchObject({
      FirstName: 'Jane',
      LastName: 'Smith',
      Company: '[not provided]',
      LeadSource: 'facebook',
    });

    const [call] = fake.byExternalId('Task', 'activity:telephony:1');
    expect(call).toMatchObject({
      TaskSubtype: 'Call',
      CallType: 'Outbound',
      Status: 'Completed',
      WhoId: contact.Id,
      Description: 'Transcript:\nai: Greeting message\ncustomer: customer message 1\nai: Ai response 1',
    });
    const [asanCall] = fake.byExternalId('Task', 'activity:asan:67890');
    expect(asanCall).toMatchObject({
      TaskSubtype: 'Call',
      CallDurationInSeconds: 184,
      WhoId: lead.Id,
      Description: 'Recording: https://recordings.example.com/asan/calls/67890.mp3',
    });
    expect(asanCall.WhatId).toBeUndefined();
    expect(fake.byExternalId('Event', 'activity:asan:4567')[0]).toMatchObject({
      StartDateTime: '2026-06-18T15:00:00.000Z',
      EndDateTime: '2026-06-18T15:30:00.000Z',
      WhoId: lead.Id,
    });
    expect(fake.byExternalId('Event', 'activity:askelephant:ngmt_01JWASTDE5DNWR48YEQGZJFYZB')[0]).toMatchObject({
      Subject: 'Pipeline Review',
      StartDateTime: '2026-03-09T14:00:00.000Z',
      EndDateTime: '2026-03-09T14:45:00.000Z',
    });

    // A transcript segment writes nothing (the call gets the whole transcript when it ends), and says so.
    const [segment] = await deliveriesOf(inbound.transcript);
    expect(segment.status).toBe('unchanged');
    for (const id of [inbound.company, inbound.contact, inbound.lead, inbound.call_ended, inbound.asanCall]) {
      expect((await deliveriesOf(id)).map((d) => d.status)).toEqual(['succeeded']);
    }
    // The daily budget the org reported is exposed for /health.
    expect(adapter.health()[destinationId]).toEqual({ used: fake.used, max: 15_000, deferring: false });
  });

  it('dependency order: a contact that arrives before its company is linked to the Account', async () => {
    const company = JSON.parse(sample('askelephant', 'v1.company.created.json').toString());
    Object.assign(company.data.object, { id: 'cmp_late', name: 'Late Corp', domain: 'late.example' });
    const contactFirst = await postAskElephant(
      askContact(
        {
          id: 'cnt_early',
          company: 'cmp_late',
          emails: [{ email: 'early@late.example', is_primary: true }],
          phone_numbers: [{ phone_number: '+14155550100', is_primary: true }],
        },
        { id: 'evt_early' },
      ),
    ).expect(202);
    await postAskElephant(JSON.stringify({ ...company, id: 'evt_late_company' })).expect(202);
    await settle('the contact and its late company');

    const [account] = fake.byExternalId('Account', 'company:askelephant:cmp_late');
    expect(fake.byExternalId('Contact', 'contact:askelephant:cnt_early')[0]).toMatchObject({ AccountId: account.Id });
    const [delivery] = await deliveriesOf(contactFirst.body.id);
    expect(delivery.status).toBe('succeeded');
    if (delivery.attempts > 1) {
      expect((await attemptsOf(delivery.id))[0].error).toContain('dependency order');
    }
  });

  it('replay leaves the record counts unchanged', async () => {
    const before = counts();
    const writes = fake.writes().length;
    // The same deliveries again: collapsed at the door.
    const again = await postAskElephant(sample('askelephant', 'v1.company.created.json').toString());
    expect(again.status).toBe(200);
    // The vendors sending the same states again as new events: new canonical events, nothing new in Salesforce.
    const resent = [
      (await postAskElephant(askContact({}, { id: 'evt_resent_contact' })).expect(202)).body.id,
      ...(await Promise.all(
        ['call_initiated', 'call_answered', 'call_ended'].map(
          async (e) =>
            (
              await postTelephony(
                JSON.stringify(JSON.parse(sample('telephony', `${e}.json`).toString()), null, 1),
              ).expect(202)
            ).body.id,
        ),
      )),
      (
        await postAsan(JSON.stringify(JSON.parse(sample('asan', 'call.completed.json').toString()), null, 1)).expect(
          202,
        )
      ).body.id,
    ];
    await settle('the replays');

    expect(counts()).toEqual(before);
    expect(fake.writes()).toHaveLength(writes);
    const statuses = (await Promise.all(resent.map(deliveriesOf))).flat().map((d) => d.status);
    expect(statuses).toHaveLength(resent.length);
    expect(statuses.every((s) => s === 'unchanged' || s === 'superseded')).toBe(true);
  });

  it('out-of-order contact.updated events end at the newest state; the older one is superseded', async () => {
    const updated = (lastName: string, updatedAt: string, id: string) => {
      const body = JSON.parse(sample('askelephant', 'v1.contact.updated.json').toString());
      Object.assign(body.data.object, { last_name: lastName, updated_at: updatedAt });
      return JSON.stringify({ ...body, id, created_at: updatedAt });
    };
    const newer = (await postAskElephant(updated('Newest', '2026-03-20T00:00:00.000Z', 'evt_newer')).expect(202)).body
      .id;
    await settle('the newer update');
    const older = (await postAskElephant(updated('Older', '2026-03-15T00:00:00.000Z', 'evt_older')).expect(202)).body
      .id;
    await settle('the older update');

    const [contact, ...others] = fake.byExternalId('Contact', 'contact:askelephant:cnt_01JWASQ3Z7N8K2M4P6R8T0V2X4');
    expect(others).toHaveLength(0);
    expect(contact.LastName).toBe('Newest');
    expect((await deliveriesOf(newer)).map((d) => d.status)).toEqual(['succeeded']);
    // The deliveries API shows it.
    const shown = await hub.api().get(`/api/events/${older}`).expect(200);
    expect(JSON.stringify(shown.body)).toContain('superseded');
    expect((await deliveriesOf(older)).map((d) => d.status)).toEqual(['superseded']);
  });

  it('a write applied before the connection dropped leaves one record', async () => {
    fake.fail({ kind: 'drop-after-apply' });
    const id = (
      await postAskElephant(
        askContact(
          { id: 'cnt_dropped', emails: [{ email: 'dropped@example.com', is_primary: true }] },
          { id: 'evt_d' },
        ),
      ).expect(202)
    ).body.id;
    await settle('the dropped write');

    expect(fake.byExternalId('Contact', 'contact:askelephant:cnt_dropped')).toHaveLength(1);
    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    const attempts = await attemptsOf(delivery.id);
    expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: null });
    expect(attempts[1]).toMatchObject({ outcome: 'succeeded', status_code: 200 });
  });

  it('a throttle (403 REQUEST_LIMIT_EXCEEDED) is waited out', async () => {
    fake.fail({ kind: 'throttle', message: 'ConcurrentPerOrgLongTxn Limit exceeded.' });
    const id = (await postAsan(asanLead(777, 'Tom Throttle')).expect(202)).body.id;
    await settle('the throttled lead');

    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    const attempts = await attemptsOf(delivery.id);
    expect(attempts[0]).toMatchObject({ outcome: 'retry', status_code: 403 });
    expect(attempts[0].error).toContain('REQUEST_LIMIT_EXCEEDED');
    expect(fake.byExternalId('Lead', 'lead:asan:777')).toHaveLength(1);
  });

  it('deliveries due together go out as sObject Collections upserts, with one outcome each', async () => {
    const before = fake.requests.length;
    const ids = await Promise.all(
      Array.from(
        { length: 20 },
        async (_, i) => (await postAsan(asanLead(900 + i, `Batch Lead${i}`)).expect(202)).body.id,
      ),
    );
    await settle('the batch of leads');

    const deliveries = (await Promise.all(ids.map(deliveriesOf))).flat();
    expect(deliveries.map((d) => d.status)).toEqual(Array(20).fill('succeeded'));
    for (let i = 0; i < 20; i++) expect(fake.byExternalId('Lead', `lead:asan:${900 + i}`)).toHaveLength(1);
    const requests = fake.requests.slice(before);
    const collections = requests.filter(
      (r) => r.path === '/services/data/v60.0/composite/sobjects/Lead/Switchboard_Id__c',
    );
    // How the 20 spread over requests depends on when each was normalised; several always share one.
    expect(collections.length).toBeGreaterThan(0);
    expect(requests.length).toBeLessThan(20);
    const batched = collections.reduce((n, r) => n + (r.body as { records: unknown[] }).records.length, 0);
    expect(batched + (requests.length - collections.length)).toBe(20);
  });

  it('a validation error is not retried: failed after one attempt, with the CRM message', async () => {
    fake.fail({
      kind: 'validation',
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Leads from example.com need a phone number',
      fields: ['Phone'],
    });
    const id = (await postAsan(asanLead(778, 'Val Idation')).expect(202)).body.id;
    await settle('the rejected lead');
    // Long enough for a retry to have happened if one were scheduled (HUB_RETRY_SCHEDULE is 0.2 s in tests).
    await new Promise((r) => setTimeout(r, 1000));

    const [delivery] = await deliveriesOf(id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    const attempts = await attemptsOf(delivery.id);
    expect(attempts).toEqual([
      {
        outcome: 'failed',
        status_code: 400,
        error: 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Leads from example.com need a phone number',
      },
    ]);
    expect(fake.byExternalId('Lead', 'lead:asan:778')).toHaveLength(0);
  });
});
