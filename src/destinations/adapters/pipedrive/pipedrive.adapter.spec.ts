import { randomBytes } from 'node:crypto';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { startHub, TestHub } from '../../../../test/helpers/hub';
import { PipedriveFake, startPipedriveFake } from '../../../../test/fakes/pipedrive.fake';
import { DestinationService } from '../../destination.service';
import type { AdapterOutcome } from '../destination-adapter';
import { PIPEDRIVE_TEXT_LIMIT, markerFor } from './pipedrive-text';
import { PipedriveAdapter } from './pipedrive.adapter';

/**
 * The adapter against the fake Pipedrive and the real CRM ledger (Postgres through a real hub, STYLE habit 7):
 * the exact requests it sends, create-vs-update through the ledger, markers and lookups after ambiguous failures,
 * participant matching, and the error classes.
 */
describe(PipedriveAdapter.name, () => {
  let hub: TestHub;
  let fake: PipedriveFake;
  let sut: PipedriveAdapter;
  let destinations: DestinationService;
  let destinationId: string;
  let seq = 0;

  beforeAll(async () => {
    hub = await startHub();
    fake = await startPipedriveFake();
    sut = hub.app.get(PipedriveAdapter);
    destinations = hub.app.get(DestinationService);
  });

  afterAll(async () => {
    await hub?.close();
    await fake?.stop();
  });

  beforeEach(async () => {
    // A fresh destination per test: its own ledger rows and its own token bucket.
    const created = await hub
      .api()
      .post('/api/destinations')
      .send({
        name: `pipedrive ${++seq}`,
        type: 'pipedrive',
        config: { baseUrl: fake.url, token: fake.token },
        // The tests call the adapter directly: routing never picks this destination (eventTypes must name a
        // canonical type, so a filter that is always false keeps it out).
        eventTypes: ['contact.*'],
        filter: 'false',
      })
      .expect(201);
    destinationId = created.body.id;
    fake.requests.length = 0;
  });

  const deliver = async (event: CloudEvent, deadlineMs = 5000): Promise<AdapterOutcome> => {
    const destination = (await destinations.find(destinationId))!;
    return sut.deliver({
      delivery: { id: `dlv_${randomBytes(6).toString('hex')}`, destinationId, canonicalEventId: event.id, attempts: 1 },
      destination,
      config: destinations.openConfig(destination),
      event,
      deadlineMs,
    });
  };

  const event = (type: string, subject: string, data: Record<string, unknown>, time = '2026-03-09T12:00:00.000Z') =>
    ({
      specversion: '1.0',
      id: `evt_${randomBytes(6).toString('hex')}`,
      type,
      source: 'switchboard/sources/src_test',
      subject,
      time,
      datacontenttype: 'application/json',
      connector: subject.split(':')[1],
      vendoreventtype: type,
      test: false,
      data,
    }) as CloudEvent;

  const uid = () => randomBytes(4).toString('hex');
  const contact = (id: string, extra: Record<string, unknown> = {}) =>
    event('contact.updated', `contact:askelephant:${id}`, {
      id,
      firstName: 'Jane',
      lastName: 'Doe',
      emails: [{ address: `${id}@example.com`, primary: true }],
      phones: [{ number: '+1 415 555 0100', primary: true }],
      updatedAt: '2026-03-09T12:00:00.000Z',
      ...extra,
    });
  const call = (id: string, data: Record<string, unknown> = {}, type = 'activity.completed') =>
    event(type, `activity:telephony:${id}`, { id, kind: 'call', status: 'ended', direction: 'outbound', ...data });

  it('creates a person with POST /api/v2/persons after one exact email search, then PATCHes it; a replay is unchanged', async () => {
    const id = uid();
    expect(await deliver(contact(id))).toMatchObject({ outcome: 'succeeded', statusCode: 200 });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/persons/search',
      'POST /api/v2/persons',
    ]);
    expect(fake.requests[0].query).toEqual({
      term: `${id}@example.com`,
      fields: 'email',
      exact_match: 'true',
      limit: '10',
    });
    expect(fake.requests[0].token).toBe(fake.token);
    expect(fake.requests[1].body).toEqual({
      name: 'Jane Doe',
      emails: [{ value: `${id}@example.com`, primary: true, label: 'work' }],
      phones: [{ value: '+1 415 555 0100', primary: true, label: 'work' }],
    });
    const personId = (
      await hub.sql<{ crm_id: string }>(`SELECT crm_id FROM crm_ledger WHERE destination_id = $1 AND subject = $2`, [
        destinationId,
        `contact:askelephant:${id}`,
      ])
    )[0].crm_id;

    fake.requests.length = 0;
    expect(await deliver(contact(id))).toMatchObject({ outcome: 'unchanged' });
    expect(fake.requests).toHaveLength(0);

    const renamed = contact(id, { firstName: 'Janet', updatedAt: '2026-03-10T12:00:00.000Z' });
    expect(await deliver(renamed)).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /api/v2/persons/${personId}`]);
    expect(fake.persons.get(Number(personId))!.name).toBe('Janet Doe');
  });

  it('creates the person again when it was deleted in Pipedrive (404 on update), and the ledger follows', async () => {
    const id = uid();
    await deliver(contact(id));
    const first = [...fake.persons.values()].find((p) => p.emails[0]?.value === `${id}@example.com`)!;
    fake.persons.delete(first.id);
    fake.requests.length = 0;
    const outcome = await deliver(contact(id, { firstName: 'Again', updatedAt: '2026-03-11T00:00:00.000Z' }));
    expect(outcome).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `PATCH /api/v2/persons/${first.id}`,
      'POST /api/v2/persons',
    ]);
    const again = [...fake.persons.values()].find((p) => p.emails[0]?.value === `${id}@example.com`)!;
    expect(again.name).toBe('Again Doe');
    const ledger = await hub.sql<{ crm_id: string }>(
      `SELECT crm_id FROM crm_ledger WHERE destination_id = $1 AND subject = $2 AND object_type = 'person'`,
      [destinationId, `contact:askelephant:${id}`],
    );
    expect(ledger[0].crm_id).toBe(String(again.id));
  });

  it('marks an older state superseded and sends nothing (no stale overwrite)', async () => {
    const id = uid();
    await deliver(contact(id, { firstName: 'New', updatedAt: '2026-03-10T00:00:00.000Z' }));
    fake.requests.length = 0;
    const outcome = await deliver(contact(id, { firstName: 'Old', updatedAt: '2026-03-01T00:00:00.000Z' }));
    expect(outcome).toMatchObject({ outcome: 'superseded' });
    expect(fake.requests).toHaveLength(0);
  });

  it('matches an existing Pipedrive person by email instead of creating a second one', async () => {
    const id = uid();
    const existing = fake.seedPerson({
      name: 'Already There',
      emails: [{ value: `${id}@example.com`, primary: true }],
    });
    const before = fake.persons.size;
    expect(await deliver(contact(id))).toMatchObject({ outcome: 'succeeded' });
    expect(fake.persons.size).toBe(before);
    expect(fake.writes().map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /api/v2/persons/${existing.id}`]);
  });

  it('apply-then-drop on a person create: the retry finds it by email and leaves one record', async () => {
    const id = uid();
    fake.inject({ kind: 'apply-then-drop' }, { method: 'POST', path: '/api/v2/persons' });
    const before = fake.persons.size;
    expect(await deliver(contact(id))).toMatchObject({ outcome: 'retry' });
    expect(fake.persons.size).toBe(before + 1);
    expect(await deliver(contact(id))).toMatchObject({ outcome: 'succeeded' });
    expect(fake.persons.size).toBe(before + 1);
  });

  it('writes a call with its participants matched in the ledger first, then by one exact phone search', async () => {
    const id = uid();
    await deliver(contact(id)); // Jane: phone:+14155550100 is now in the ledger
    const rep = fake.seedPerson({ name: 'Rep line', phones: [{ value: '+905555555555', primary: true }] });
    fake.requests.length = 0;
    const outcome = await deliver(
      call(id, {
        participants: [
          { role: 'caller', phone: '+90 555 555 55 55' },
          { role: 'callee', phone: '+1 (415) 555-0100' },
          { role: 'observer', email: 'nobody@nowhere.example' },
        ],
        durationSeconds: 184,
        startedAt: '2026-03-09T14:00:00.000Z',
        transcript: { text: 'ai: hello\ncustomer: hi <there>' },
      }),
    );
    expect(outcome).toMatchObject({ outcome: 'succeeded' });
    expect(JSON.parse((outcome as { responseBody: string }).responseBody)).toMatchObject({
      action: 'created',
      unmatched: ['email:nobody@nowhere.example'],
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path} ${r.query.fields ?? ''}`.trim())).toEqual([
      'GET /api/v2/persons/search phone',
      'GET /api/v2/persons/search email',
      'POST /api/v2/activities',
    ]);
    const jane = Number(
      (
        await hub.sql<{ crm_id: string }>(
          `SELECT crm_id FROM crm_ledger WHERE destination_id = $1 AND subject = 'phone:+14155550100'`,
          [destinationId],
        )
      )[0].crm_id,
    );
    expect(fake.requests[2].body).toEqual({
      subject: `Call (telephony ${id})`,
      type: 'call',
      due_date: '2026-03-09',
      due_time: '14:00',
      duration: '00:04',
      done: true,
      note: expect.stringContaining(`[Switchboard ${markerFor(`activity:telephony:${id}`)}]`),
      person_id: rep.id,
      participants: [
        { person_id: rep.id, primary: true },
        { person_id: jane, primary: false },
      ],
    });
    expect(String(fake.requests[2].body!.note)).toContain('customer: hi &lt;there&gt;');

    // The search result is kept: the next call with the rep's number asks Pipedrive nothing.
    fake.requests.length = 0;
    await deliver(call(uid(), { participants: [{ role: 'caller', phone: '+905555555555' }] }));
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/v2/activities']);
  });

  it('apply-then-drop on an activity create: the retry finds it by its marker in recent activities, one record', async () => {
    const id = uid();
    fake.inject({ kind: 'apply-then-drop' }, { method: 'POST', path: '/api/v2/activities' });
    const before = fake.activities.size;
    expect(await deliver(call(id))).toMatchObject({ outcome: 'retry' });
    expect(fake.activities.size).toBe(before + 1);
    fake.requests.length = 0;
    expect(await deliver(call(id))).toMatchObject({ outcome: 'succeeded' });
    expect(fake.activities.size).toBe(before + 1);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/activities',
      expect.stringMatching(/^PATCH \/api\/v2\/activities\/\d+$/),
    ]);
    expect(fake.requests[0].query).toMatchObject({ sort_by: 'update_time', sort_direction: 'desc' });
    expect(fake.requests[0].query.updated_since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('a hung create times out as retry; the next attempt looks it up before creating', async () => {
    const id = uid();
    fake.inject({ kind: 'hang' }, { method: 'POST', path: '/api/v2/activities' });
    const outcome = await deliver(call(id), 500);
    expect(outcome).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('timed out') });
    fake.requests.length = 0;
    expect(await deliver(call(id))).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/activities',
      'POST /api/v2/activities',
    ]);
  });

  it("waits for another worker's fresh pending create; takes over a stale one after looking it up", async () => {
    const id = uid();
    const claim = (at: Date) =>
      hub.sql(
        `INSERT INTO crm_ledger (destination_id, subject, object_type, payload_hash) VALUES ($1, $2, 'activity', $3)
         ON CONFLICT (destination_id, subject, object_type) DO UPDATE SET payload_hash = EXCLUDED.payload_hash`,
        [destinationId, `activity:telephony:${id}`, `pending:${at.toISOString()}@another-worker`],
      );
    await claim(new Date());
    expect(await deliver(call(id))).toMatchObject({
      outcome: 'retry',
      reason: expect.stringContaining('another worker'),
    });
    expect(fake.requests).toHaveLength(0);
    await claim(new Date(Date.now() - 3_600_000));
    expect(await deliver(call(id))).toMatchObject({ outcome: 'succeeded' });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v2/activities',
      'POST /api/v2/activities',
    ]);
  });

  it('when only participant matching fails, writes the activity and retries only the associations', async () => {
    const id = uid();
    const person = fake.seedPerson({ name: 'Match me', emails: [{ value: `${id}@match.example`, primary: true }] });
    fake.inject({ kind: 'fail', status: 503 }, { method: 'GET', path: '/api/v2/persons/search' });
    const first = await deliver(call(id, { participants: [{ role: 'callee', email: `${id}@match.example` }] }));
    expect(first).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('only the associations') });
    const activity = [...fake.activities.values()].at(-1)!;
    expect(activity.participants).toEqual([]);
    fake.requests.length = 0;
    expect(await deliver(call(id, { participants: [{ role: 'callee', email: `${id}@match.example` }] }))).toMatchObject(
      {
        outcome: 'succeeded',
      },
    );
    expect(fake.writes().map((r) => [r.method, r.path, r.body])).toEqual([
      [
        'PATCH',
        `/api/v2/activities/${activity.id}`,
        { person_id: person.id, participants: [{ person_id: person.id, primary: true }] },
      ],
    ]);
  });

  it('writes a note on the person of its activity, with a marker; apply-then-drop leaves one note', async () => {
    const id = uid();
    const person = fake.seedPerson({ name: 'Note owner', emails: [{ value: `${id}@note.example`, primary: true }] });
    await deliver(call(id, { participants: [{ role: 'callee', email: `${id}@note.example` }] }));
    const note = event('note.created', `note:telephony:n_${id}`, {
      id: `n_${id}`,
      activityId: id,
      body: 'Send the proposal',
    });
    fake.inject({ kind: 'apply-then-drop' }, { method: 'POST', path: '/api/v1/notes' });
    expect(await deliver(note)).toMatchObject({ outcome: 'retry' });
    fake.requests.length = 0;
    expect(await deliver(note)).toMatchObject({ outcome: 'succeeded' });
    const notes = [...fake.notes.values()].filter((n) => n.person_id === person.id);
    expect(notes).toHaveLength(1);
    expect(notes[0].content).toBe(`<p>Send the proposal</p><p>[Switchboard ${markerFor(note.subject)}]</p>`);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/notes',
      `PUT /api/v1/notes/${notes[0].id}`,
    ]);
    expect(fake.requests[0].query).toMatchObject({ person_id: String(person.id), sort: 'update_time DESC' });
  });

  it('a note waits (retry) for its activity; one whose activity matched nobody fails with the reason', async () => {
    const id = uid();
    const note = event('note.created', `note:telephony:n_${id}`, { id: `n_${id}`, activityId: id, body: 'x' });
    expect(await deliver(note)).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('waiting for') });
    await deliver(call(id));
    expect(await deliver(note)).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('matched no person'),
    });
  });

  it('429 with retry-after is a retry after that long, and the bucket waits it out before the next request', async () => {
    fake.inject({ kind: 'throttle', retryAfterSeconds: 1 }, { method: 'POST' });
    const first = await deliver(call(uid()));
    expect(first).toMatchObject({ outcome: 'retry', afterMs: 1000, statusCode: 429 });
    const started = Date.now();
    expect(await deliver(call(uid()))).toMatchObject({ outcome: 'succeeded' });
    // The bucket was paused by the 429: the next request waited for it rather than hitting 429 again.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("a validation error fails with Pipedrive's message; a 5xx is a retry; a bad token fails", async () => {
    fake.inject({ kind: 'reject', error: 'Subject is too long', errorInfo: 'See the docs' }, { method: 'POST' });
    expect(await deliver(call(uid()))).toMatchObject({
      outcome: 'failed',
      statusCode: 400,
      reason: 'Pipedrive rejected the request: Subject is too long: See the docs',
    });
    fake.inject({ kind: 'fail', status: 502 }, { method: 'POST' });
    expect(await deliver(call(uid()))).toMatchObject({ outcome: 'retry', statusCode: 502 });

    const destination = (await destinations.find(destinationId))!;
    const outcome = await sut.deliver({
      delivery: { id: 'dlv_badtoken', destinationId, canonicalEventId: 'x', attempts: 1 },
      destination,
      config: { baseUrl: fake.url, token: 'wrong' },
      event: call(uid()),
      deadlineMs: 5000,
    });
    expect(outcome).toMatchObject({ outcome: 'failed', statusCode: 401 });
  });

  it('cuts a long transcript to the limit with a note saying so', async () => {
    const id = uid();
    await deliver(call(id, { transcript: { text: 'x'.repeat(PIPEDRIVE_TEXT_LIMIT + 5000) } }));
    const note = [...fake.activities.values()].at(-1)!.note!;
    expect(note).toMatch(new RegExp(`\\[Switchboard: truncated from \\d+ to ${PIPEDRIVE_TEXT_LIMIT} characters\\]`));
    expect(note.length).toBeLessThan(PIPEDRIVE_TEXT_LIMIT + 200);
  });

  it('writes companies as organizations and links the contact to it', async () => {
    const id = uid();
    const company = event('company.created', `company:askelephant:c_${id}`, { id: `c_${id}`, name: `Acme ${id}` });
    expect(await deliver(company)).toMatchObject({ outcome: 'succeeded' });
    const org = [...fake.organizations.values()].find((o) => o.name === `Acme ${id}`)!;
    await deliver(contact(id, { companyId: `c_${id}` }));
    const person = [...fake.persons.values()].find((p) => p.emails[0]?.value === `${id}@example.com`)!;
    expect(person.org_id).toBe(org.id);
  });

  it('answers unchanged, with the reason, for deletes, transcript segments and types Pipedrive has no object for', async () => {
    for (const e of [
      event('contact.deleted', 'contact:askelephant:gone', { id: 'gone' }),
      call(uid(), { transcript: { segments: [{ speaker: 'ai', text: 'hi' }] } }, 'activity.transcript_segment'),
      event('activity.analyzed', 'activity:salesask:r1', { id: 'r1', kind: 'recording' }),
      event('tag.created', 'tag:askelephant:t1', { id: 't1', name: 'vip' }),
    ]) {
      expect(await deliver(e)).toMatchObject({ outcome: 'unchanged', reason: expect.any(String) });
    }
    expect(fake.requests).toHaveLength(0);
  });
});
