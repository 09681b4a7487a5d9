import ipaddr from 'ipaddr.js';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { OutboundClient } from '../../../outbound/outbound.client';
import { SalesforceFake, startSalesforceFake } from '../../../../test/fakes/salesforce.fake';
import type { DestinationEntity } from '../../destination.entity';
import type { AdapterOutcome } from '../destination-adapter';
import type { CrmLedgerService, LedgerEntry } from '../shared/crm-ledger.service';
import { DestinationMappingService } from '../shared/destination-mapping.service';
import { SalesforceAdapter } from './salesforce.adapter';

/**
 * The ledger's contract in memory, so these specs can look at the exact requests the adapter sends the fake org;
 * test/crm-salesforce.e2e-spec.ts runs the same adapter on the real Postgres ledger.
 */
class MemoryLedger {
  readonly rows = new Map<string, LedgerEntry>();
  async get(d: string, s: string, t: string) {
    return this.rows.get(`${d}|${s}|${t}`);
  }
  async appliedVersion(d: string, s: string) {
    const versions = [...this.rows.entries()]
      .filter(([k, v]) => k.startsWith(`${d}|${s}|`) && v.stateVersion)
      .map(([, v]) => v.stateVersion!.getTime());
    return versions.length ? new Date(Math.max(...versions)) : undefined;
  }
  async record(d: string, s: string, t: string, e: Partial<LedgerEntry>) {
    const key = `${d}|${s}|${t}`;
    const old = this.rows.get(key);
    const newer = [old?.stateVersion, e.stateVersion].filter((v): v is Date => !!v);
    this.rows.set(key, {
      crmId: e.crmId ?? old?.crmId ?? null,
      stateVersion: newer.length ? new Date(Math.max(...newer.map((v) => v.getTime()))) : null,
      payloadHash: e.payloadHash ?? old?.payloadHash ?? null,
    });
  }
}

const DESTINATION = { id: 'dst_sf', type: 'salesforce' } as DestinationEntity;

function event(type: string, subject: string, data: Record<string, unknown>, time = '2026-03-01T10:00:00.000Z') {
  return {
    specversion: '1.0',
    id: `evt_${Math.random().toString(36).slice(2)}`,
    type,
    source: 'switchboard/sources/src_test',
    subject,
    time,
    datacontenttype: 'application/json',
    connector: subject.split(':')[1],
    vendoreventtype: type,
    test: false,
    data,
  } as CloudEvent;
}

const contact = (updatedAt = '2026-03-01T10:00:00.000Z', firstName = 'Jane') =>
  event('contact.updated', 'contact:askelephant:cnt_1', {
    id: 'cnt_1',
    firstName,
    lastName: 'Doe',
    emails: [{ address: 'Jane@Example.com', primary: true }],
    phones: [{ number: '+90 555 555 55 54', primary: true }],
    updatedAt,
  });

const call = (type: string, data: Record<string, unknown>, time: string) =>
  event(type, 'activity:telephony:1', { id: '1', kind: 'call', direction: 'outbound', ...data }, time);

const participants = [
  { role: 'caller', phone: '+905555555555' },
  { role: 'callee', phone: '+905555555554' },
];

describe(SalesforceAdapter.name, () => {
  let fake: SalesforceFake;
  let outbound: OutboundClient;
  let ledger: MemoryLedger;
  let sut: SalesforceAdapter;
  let config: Record<string, unknown>;

  const deliver = (e: CloudEvent, deadlineMs = 5000, attempts = 1): Promise<AdapterOutcome> =>
    sut.deliver({
      delivery: { id: `dlv_${e.id}`, destinationId: DESTINATION.id, canonicalEventId: e.id, attempts },
      destination: DESTINATION,
      config,
      event: e,
      deadlineMs,
    });

  beforeEach(async () => {
    fake = await startSalesforceFake();
    outbound = new OutboundClient([ipaddr.parseCIDR('127.0.0.0/8')]);
    ledger = new MemoryLedger();
    sut = new SalesforceAdapter(outbound, ledger as unknown as CrmLedgerService, new DestinationMappingService());
    config = { instanceUrl: fake.url, token: fake.token, apiVersion: '60.0', externalIdField: 'Switchboard_Id__c' };
  });

  afterEach(async () => {
    outbound.close();
    await fake.stop();
  });

  it('upserts a contact by external id with the exact documented request, and records it in the ledger', async () => {
    const outcome = await deliver(contact());

    expect(outcome).toMatchObject({ outcome: 'succeeded', statusCode: 201 });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request.method).toBe('PATCH');
    expect(request.path).toBe('/services/data/v60.0/sobjects/Contact/Switchboard_Id__c/contact%3Aaskelephant%3Acnt_1');
    expect(request.body).toEqual({
      FirstName: 'Jane',
      LastName: 'Doe',
      Email: 'Jane@Example.com',
      Phone: '+90 555 555 55 54',
    });
    const [record] = fake.all('Contact');
    expect(record).toMatchObject({ Switchboard_Id__c: 'contact:askelephant:cnt_1', LastName: 'Doe' });
    expect(await ledger.get('dst_sf', 'contact:askelephant:cnt_1', 'Contact')).toMatchObject({ crmId: record.Id });
    // Participants later match this contact by normalised email and E.164 phone.
    expect(await ledger.get('dst_sf', 'email:jane@example.com', 'Contact')).toMatchObject({ crmId: record.Id });
    expect(await ledger.get('dst_sf', 'phone:+905555555554', 'Contact')).toMatchObject({ crmId: record.Id });
  });

  it('links a contact to the Account written for its company (dependency order)', async () => {
    await deliver(
      event('company.created', 'company:askelephant:cmp_1', { id: 'cmp_1', name: 'Acme', domains: ['acme.com'] }),
    );
    const [account] = fake.all('Account');
    expect(fake.writes()[0].body).toEqual({ Name: 'Acme', Website: 'https://acme.com' });
    await deliver(
      event('contact.created', 'contact:askelephant:cnt_2', { id: 'cnt_2', lastName: 'Roe', companyId: 'cmp_1' }),
    );
    expect(fake.writes()[1].body).toEqual({ LastName: 'Roe', AccountId: account.Id });
  });

  it('waits once for a linked record not written yet, then writes without the link', async () => {
    const asanCall = event(
      'activity.completed',
      'activity:asan:67890',
      { id: '67890', kind: 'call', durationSeconds: 184, links: { leadId: '12345' } },
      '2026-06-16T15:10:00.000Z',
    );
    expect(await deliver(asanCall)).toMatchObject({
      outcome: 'retry',
      afterMs: 2000,
      reason: expect.stringContaining('waiting for Lead lead:asan:12345 to be written first'),
    });
    expect(fake.requests).toHaveLength(0);
    expect(await deliver(asanCall, 5000, 2)).toMatchObject({ outcome: 'succeeded' });
    expect(fake.all('Task')[0].WhoId).toBeUndefined();
  });

  it('skips a replay as unchanged and an older state as superseded, sending nothing', async () => {
    await deliver(contact('2026-03-02T00:00:00.000Z', 'Jane'));
    expect(await deliver(contact('2026-03-02T00:00:00.000Z', 'Jane'))).toMatchObject({ outcome: 'unchanged' });
    expect(await deliver(contact('2026-03-01T00:00:00.000Z', 'Janet'))).toMatchObject({
      outcome: 'superseded',
      reason: expect.stringContaining('older than the applied 2026-03-02T00:00:00.000Z'),
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.all('Contact')[0].FirstName).toBe('Jane');
  });

  it('never writes an older state after a newer one delivered at the same moment', async () => {
    const [newer, older] = await Promise.all([
      deliver(contact('2026-03-05T00:00:00.000Z', 'Jane')),
      deliver(contact('2026-03-04T00:00:00.000Z', 'Janet')),
    ]);
    expect(newer).toMatchObject({ outcome: 'succeeded' });
    expect(older).toMatchObject({ outcome: 'superseded' });
    expect(fake.all('Contact')[0].FirstName).toBe('Jane');
  });

  it('writes a call as a Task: TaskSubtype Call on create only, WhoId from the matched contact', async () => {
    await deliver(contact());
    const created = await deliver(
      call('activity.created', { status: 'initiated', participants }, '2025-10-10T08:21:45.000Z'),
    );
    expect(created).toMatchObject({ outcome: 'succeeded', statusCode: 201 });
    const [contactRecord] = fake.all('Contact');
    expect(fake.requests[1].body).toEqual({
      Subject: 'Outbound call',
      ActivityDate: '2025-10-10',
      Status: 'In Progress',
      CallType: 'Outbound',
      TaskSubtype: 'Call',
      WhoId: contactRecord.Id,
    });

    const transcript = 'ai: Greeting message\ncustomer: customer message 1';
    const ended = call(
      'activity.completed',
      { status: 'ended', durationSeconds: 92, participants, transcript: { text: transcript } },
      '2025-10-10T08:23:17.000Z',
    );
    expect(await deliver(ended)).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(fake.requests[2].body).toEqual({
      Subject: 'Outbound call',
      Description: `Transcript:\n${transcript}`,
      ActivityDate: '2025-10-10',
      Status: 'Completed',
      CallType: 'Outbound',
      CallDurationInSeconds: 92,
      WhoId: contactRecord.Id,
    });
    expect(fake.all('Task')).toHaveLength(1);
    // Matched from the ledger: no search was needed.
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(0);
  });

  it('after an applied-then-dropped create, the retry finds the record: one Task, TaskSubtype not sent twice', async () => {
    fake.fail({ kind: 'drop-after-apply' });
    const first = await deliver(call('activity.created', { status: 'initiated' }, '2025-10-10T08:21:45.000Z'));
    expect(first).toMatchObject({ outcome: 'retry' });
    expect(fake.all('Task')).toHaveLength(1);

    const again = await deliver(call('activity.created', { status: 'initiated' }, '2025-10-10T08:21:45.000Z'));
    expect(again).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(fake.all('Task')).toHaveLength(1);
    const writes = fake.writes();
    expect(writes[1].body).toHaveProperty('TaskSubtype', 'Call');
    expect(writes[2].body).not.toHaveProperty('TaskSubtype');
  });

  it('writes a meeting as an Event, matching a participant by one SOSL search and linking a lead without WhatId', async () => {
    const lead = fake.seed('Lead', { LastName: 'Smith', Company: 'Acme', Email: 'sam@acme.com' });
    const account = fake.seed('Account', { Name: 'Acme' });
    await ledger.record('dst_sf', 'company:askelephant:cmp_1', 'Account', { crmId: account.Id });
    const meeting = event(
      'activity.scheduled',
      'activity:askelephant:ngmt_1',
      {
        id: 'ngmt_1',
        kind: 'meeting',
        title: 'Demo',
        scheduledAt: '2026-06-18T15:00:00.000Z',
        participants: [{ email: 'SAM@acme.com' }, { email: 'nobody@else.com' }],
        links: { companyIds: ['cmp_1'] },
      },
      '2026-06-16T15:12:00.000Z',
    );

    const outcome = await deliver(meeting);

    expect(outcome).toMatchObject({ outcome: 'succeeded' });
    const search = fake.requests.find((r) => r.method === 'GET')!;
    expect(decodeURIComponent(search.path)).toBe(
      '/services/data/v60.0/search?q=FIND {sam@acme.com} IN EMAIL FIELDS RETURNING Contact(Id), Lead(Id)',
    );
    expect(fake.writes()[0].body).toEqual({
      Subject: 'Demo',
      StartDateTime: '2026-06-18T15:00:00.000Z',
      EndDateTime: '2026-06-18T15:30:00.000Z',
      WhoId: lead.Id,
    });
    expect(JSON.parse((outcome as { responseBody: string }).responseBody)).toMatchObject({ WhoId: lead.Id });
  });

  it('records an unmatched participant without failing, and does not search for it again', async () => {
    const first = await deliver(call('activity.created', { participants }, '2025-10-10T08:21:45.000Z'));
    expect(first).toMatchObject({ outcome: 'succeeded' });
    expect(JSON.parse((first as { responseBody: string }).responseBody).unmatched).toEqual([
      'phone:+905555555554',
      'phone:+905555555555',
    ]);
    const searches = fake.requests.filter((r) => r.method === 'GET').length;
    expect(searches).toBe(2);
    await deliver(call('activity.updated', { status: 'ringing', participants }, '2025-10-10T08:21:50.000Z'));
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(searches);
  });

  it('when only the participant search fails, writes the record and retries only its links', async () => {
    const lead = fake.seed('Lead', { LastName: 'Smith', Company: 'Acme', Phone: '+90 555 555 5554' });
    fake.fail({ kind: 'server-error' }, 1, (r) => r.method === 'GET');
    const created = call('activity.created', { status: 'initiated', participants }, '2025-10-10T08:21:45.000Z');

    const first = await deliver(created);
    expect(first).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('associations wait') });
    expect(fake.all('Task')).toHaveLength(1);
    expect(fake.writes()[0].body).not.toHaveProperty('WhoId');

    const second = await deliver(created);
    expect(second).toMatchObject({ outcome: 'succeeded' });
    expect(fake.writes()[1].body).toEqual({ WhoId: lead.Id });
    expect(fake.all('Task')[0].WhoId).toBe(lead.Id);
  });

  it('sends nothing while the participant search keeps failing for an up-to-date record', async () => {
    fake.fail({ kind: 'server-error' }, 2, (r) => r.method === 'GET');
    const created = call('activity.created', { status: 'initiated', participants }, '2025-10-10T08:21:45.000Z');
    expect(await deliver(created)).toMatchObject({ outcome: 'retry' });
    expect(await deliver(created)).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('up to date') });
    expect(fake.writes()).toHaveLength(1);
    // The search answers at last and finds no one: recorded, and the delivery is done.
    const done = await deliver(created);
    expect(done).toMatchObject({ outcome: 'succeeded' });
    expect(JSON.parse((done as { responseBody: string }).responseBody).unmatched).toHaveLength(2);
    expect(fake.writes()).toHaveLength(1);
  });

  it('batches deliveries due together into one sObject Collections upsert, with one outcome each', async () => {
    const meetings = [1, 2, 3].map((n) =>
      event('activity.created', `activity:askelephant:m${n}`, {
        id: `m${n}`,
        kind: 'meeting',
        title: `Meeting ${n}`,
        // The second has no time: Salesforce refuses that record alone.
        ...(n === 2 ? {} : { startedAt: '2026-03-09T14:00:00.000Z', endedAt: '2026-03-09T14:45:00.000Z' }),
      }),
    );

    const outcomes = await Promise.all(meetings.map((m) => deliver(m)));

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request.path).toBe('/services/data/v60.0/composite/sobjects/Event/Switchboard_Id__c');
    // The batch holds the three in the order their mappings finished, which the mapping threads decide.
    const records = (request.body as { allOrNone: boolean; records: { Switchboard_Id__c: string }[] }).records;
    expect(request.body).toMatchObject({ allOrNone: false });
    expect([...records].sort((a, b) => a.Switchboard_Id__c.localeCompare(b.Switchboard_Id__c))).toMatchObject([
      { attributes: { type: 'Event' }, Switchboard_Id__c: 'activity:askelephant:m1', Subject: 'Meeting 1' },
      { attributes: { type: 'Event' }, Switchboard_Id__c: 'activity:askelephant:m2', Subject: 'Meeting 2' },
      { attributes: { type: 'Event' }, Switchboard_Id__c: 'activity:askelephant:m3', Subject: 'Meeting 3' },
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(outcomes[1]).toMatchObject({
      reason: 'REQUIRED_FIELD_MISSING: Required fields are missing: [StartDateTime, EndDateTime]',
    });
    expect(fake.all('Event')).toHaveLength(2);
  });

  it('splits one subject twice in a batch over two requests (a collection may name an external id once)', async () => {
    const outcomes = await Promise.all([deliver(contact()), deliver(contact('2026-03-01T10:00:00.000Z', 'Jo'))]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(fake.writes()).toHaveLength(2);
    expect(fake.all('Contact')).toHaveLength(1);
  });

  it('classifies Salesforce errors: 300 and validation fail, bad token fails for ops, limits and 5xx retry', async () => {
    fake.seed('Contact', { LastName: 'A', Switchboard_Id__c: 'contact:askelephant:dup' });
    fake.seed('Contact', { LastName: 'B', Switchboard_Id__c: 'contact:askelephant:dup' });
    const dup = event('contact.created', 'contact:askelephant:dup', { id: 'dup', lastName: 'C' });
    expect(await deliver(dup)).toMatchObject({
      outcome: 'failed',
      statusCode: 300,
      reason: expect.stringMatching(
        /^HTTP 300, several records match: \/services\/data\/v60\.0\/sobjects\/Contact\/003/,
      ),
    });

    fake.fail({
      kind: 'validation',
      errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION',
      message: 'Email domain is blocked',
      fields: [],
    });
    expect(await deliver(contact())).toMatchObject({
      outcome: 'failed',
      statusCode: 400,
      reason: 'FIELD_CUSTOM_VALIDATION_EXCEPTION: Email domain is blocked',
    });

    fake.fail({ kind: 'invalid-session' });
    expect(await deliver(contact())).toMatchObject({
      outcome: 'failed',
      statusCode: 401,
      reason: expect.stringContaining("set a valid token in the destination's config.token"),
    });

    fake.fail({ kind: 'throttle', message: 'ConcurrentPerOrgLongTxn Limit exceeded.' });
    expect(await deliver(contact())).toMatchObject({ outcome: 'retry', statusCode: 403, afterMs: 30_000 });

    fake.fail({ kind: 'throttle', retryAfterSeconds: 2 });
    sut.options.otherLimitBackoffMs = 0;
    // The previous answer paused this destination for 30 s: the hub waits without asking Salesforce.
    expect(await deliver(contact())).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('pacing') });
  });

  it('retries 5xx, a dropped connection and a hung request', async () => {
    fake.fail({ kind: 'server-error' });
    expect(await deliver(contact())).toMatchObject({ outcome: 'retry', statusCode: 503 });
    fake.fail({ kind: 'hang' });
    expect(await deliver(contact(), 300)).toMatchObject({
      outcome: 'retry',
      reason: expect.stringContaining('timed out'),
    });
    expect(await deliver(contact())).toMatchObject({ outcome: 'succeeded' });
  });

  it('reports daily API use from Sforce-Limit-Info and defers updates, not creates, at 90 %', async () => {
    fake.used = 13_498; // the next answers say 13 499/15 000 and 13 500/15 000
    await deliver(contact());
    expect(sut.health()).toEqual({ dst_sf: { used: 13_499, max: 15_000, deferring: false } });
    const created = await deliver(event('lead.created', 'lead:asan:1', { id: '1', name: 'Sam Lee' }));
    expect(created).toMatchObject({ outcome: 'succeeded' });
    expect(sut.health()).toEqual({ dst_sf: { used: 13_500, max: 15_000, deferring: true } });

    const update = await deliver(contact('2026-03-05T00:00:00.000Z', 'Janet'));
    expect(update).toMatchObject({
      outcome: 'retry',
      afterMs: 15 * 60_000,
      reason: expect.stringContaining('13500/15000'),
    });
    expect(await deliver(event('lead.created', 'lead:asan:2', { id: '2', name: 'Kim Park' }))).toMatchObject({
      outcome: 'succeeded',
    });
  });

  it('cuts a long transcript to 32 000 characters with a note', async () => {
    const long = 'x'.repeat(40_000);
    await deliver(call('activity.completed', { transcript: { text: long } }, '2025-10-10T08:23:17.000Z'));
    const description = fake.all('Task')[0].Description as string;
    expect(description).toHaveLength(32_000);
    expect(description).toMatch(/\[Switchboard: truncated from 40012 to 32000 characters\]$/);
  });

  it('fills what Salesforce requires on create and no more: Lead LastName and Company', async () => {
    await deliver(event('lead.created', 'lead:asan:3', { id: '3', email: 'a@b.co' }));
    expect(fake.writes()[0].body).toEqual({ LastName: '[not provided]', Company: '[not provided]', Email: 'a@b.co' });
    await deliver(event('lead.updated', 'lead:asan:3', { id: '3', name: 'Ann Bee' }, '2026-03-02T00:00:00.000Z'));
    expect(fake.writes()[1].body).toEqual({ FirstName: 'Ann', LastName: 'Bee' });
  });

  it('answers unchanged, with the reason, for deletes, transcript segments and types with no Salesforce object', async () => {
    for (const [type, data, reason] of [
      ['contact.deleted', { id: 'c' }, 'deletes are not sent'],
      ['activity.transcript_segment', { id: '1', kind: 'call' }, 'whole transcript on activity.completed'],
      ['activity.analyzed', { id: '1', kind: 'sms' }, 'no Salesforce object for activity kind "sms"'],
      ['signal.detected', { code: 'x', category: 'risk' }, 'no Salesforce object for this event type'],
      ['lead.updated', { id: '1', status: 'contacted' }, 'nothing for Salesforce in this event'],
    ] as const) {
      const outcome = await deliver(event(type, `${type.split('.')[0]}:asan:1`, data));
      expect(outcome).toMatchObject({ outcome: 'unchanged', reason: expect.stringContaining(reason) });
    }
    expect(fake.requests).toHaveLength(0);
  });
});
