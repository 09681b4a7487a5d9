import 'reflect-metadata';
import fc from 'fast-check';
import { cloudEvent, expectedEvents } from '../../test/helpers/canonical-events';
import { conforms, describeProblems, SUBJECT_MAX_LENGTH, validateCloudEvent } from './canonical-validator';
import { CANONICAL_TYPES, CloudEvent } from './cloud-event';

function activityCompleted(data: Record<string, unknown> = {}, envelope: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id: 'evt_01HZX3K9',
    type: 'activity.completed',
    source: '/sources/src_telephony',
    subject: 'activity:telephony:call-1',
    time: '2024-05-01T10:15:00Z',
    datacontenttype: 'application/json',
    connector: 'telephony',
    vendoreventtype: 'call.ended',
    test: false,
    ...envelope,
    data: {
      id: 'call-1',
      kind: 'call',
      direction: 'outbound',
      startedAt: '2024-05-01T10:00:00Z',
      endedAt: '2024-05-01T10:15:00Z',
      durationSeconds: 900,
      participants: [{ role: 'agent', name: 'Ana', email: 'ana@example.com' }],
      ...data,
    },
  };
}

describe(validateCloudEvent.name, () => {
  it('returns no problems for a valid activity.completed event', () => {
    expect(validateCloudEvent(activityCompleted())).toEqual([]);
  });

  it('reports null inside data', () => {
    expect(validateCloudEvent(activityCompleted({ title: null }))).toEqual([
      'data.title: is null; omit unknown fields instead',
    ]);
  });

  it('reports null nested in an array inside data', () => {
    expect(validateCloudEvent(activityCompleted({ participants: [{ name: 'Ana', phone: null }] }))).toEqual([
      'data.participants[0].phone: is null; omit unknown fields instead',
    ]);
  });

  it('allows null inside data.changes (a previous value that really was null)', () => {
    expect(validateCloudEvent(activityCompleted({ changes: { title: null, summary: 'old' } }))).toEqual([]);
  });

  it('reports an unknown field in data', () => {
    expect(validateCloudEvent(activityCompleted({ foo: 'bar' }))).toEqual(['data.foo: property foo should not exist']);
  });

  it('reports a subject whose entity is not canonical', () => {
    const problems = validateCloudEvent(activityCompleted({}, { subject: 'call:telephony:1' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^subject: subject must be <entity>:<connector>:<vendor id> with entity one of activity, /,
    );
  });

  it('reports an unknown type', () => {
    const problems = validateCloudEvent(activityCompleted({}, { type: 'activity.exploded' }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^type: type must be one of the following values: activity.created, /);
  });

  it('reports an invalid kind', () => {
    expect(validateCloudEvent(activityCompleted({ kind: 'fax' }))).toEqual([
      'data.kind: kind must be one of the following values: call, meeting, recording, sms, email',
    ]);
  });

  it('reports a nested participant with an invalid email by its path', () => {
    const participants = [{ email: 'ana@example.com' }, { name: 'Bo', email: 'not-an-email' }];
    expect(validateCloudEvent(activityCompleted({ participants }))).toEqual([
      'data.participants.1.email: email must be an email',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = validateCloudEvent(activityCompleted({ kind: 'fax', foo: 1 }, { subject: 'call:telephony:1' }));
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['data.foo', 'data.kind', 'subject']);
  });

  describe('never an empty id (DESIGN §4)', () => {
    it('refuses a subject whose vendor id is empty, naming the missing id', () => {
      expect(validateCloudEvent(activityCompleted({}, { subject: 'activity:telephony:' }))).toEqual([
        'subject: subject "activity:telephony:" has no vendor id: the mapping found no id for the entity',
      ]);
    });

    it.each(['   ', 'null', 'undefined'])('refuses the vendor id %j that a mapping makes of a missing id', (id) => {
      const problems = validateCloudEvent(activityCompleted({}, { subject: `activity:telephony:${id}` }));
      expect(problems).toEqual([expect.stringMatching(/^subject: .* has no vendor id: the mapping found no id/)]);
    });

    it('accepts a vendor id that contains colons', () => {
      expect(validateCloudEvent(activityCompleted({}, { subject: 'activity:telephony:pbx:1' }))).toEqual([]);
    });

    it('refuses a subject too long to index (a vendor id of a megabyte)', () => {
      const subject = `activity:telephony:${'9'.repeat(SUBJECT_MAX_LENGTH)}`;
      const problems = validateCloudEvent(activityCompleted({}, { subject }));
      expect(problems).toEqual([expect.stringMatching(/^subject: .*shorter than or equal to 512 characters/)]);
    });

    it('refuses an entity without its id, naming data.id', () => {
      const event = activityCompleted();
      delete event.data.id;
      expect(validateCloudEvent(event)).toEqual(['data.id: id is missing: the entity needs its vendor id']);
    });

    it.each(['', '  '])('refuses an entity whose id is %j, naming data.id', (id) => {
      expect(validateCloudEvent(activityCompleted({ id }))).toEqual([
        'data.id: id is empty: the entity needs its vendor id',
      ]);
    });

    it('refuses a numeric id (ids are strings)', () => {
      expect(validateCloudEvent(activityCompleted({ id: 1 }))).toEqual(['data.id: id must be a string']);
    });

    it.each([
      ['note.created', { body: 'x' }],
      ['contact.updated', { firstName: 'Ana' }],
      ['tag.deleted', { name: 'vip' }],
    ])('refuses %s without data.id', (type, data) => {
      const event = { ...activityCompleted(), type, subject: 'note:acme:1', data };
      expect(validateCloudEvent(event)).toEqual(['data.id: id is missing: the entity needs its vendor id']);
    });
  });

  describe('activity.transcript_segment', () => {
    const segment = (segments: unknown[]) =>
      activityCompleted(
        { transcript: { segments } },
        { type: 'activity.transcript_segment', subject: 'activity:telephony:call-1' },
      );

    it('is an Activity whose transcript carries the one new segment', () => {
      expect(
        validateCloudEvent(segment([{ speaker: 'customer', text: 'Hello', at: '2025-10-10T08:23:42.000Z' }])),
      ).toEqual([]);
    });

    it('refuses the old ad-hoc activityId/speaker/text shape', () => {
      const event = segment([{ text: 'Hello' }]);
      event.data = { activityId: 'call-1', kind: 'call', speaker: 'customer', text: 'Hello' };
      expect(validateCloudEvent(event).sort()).toEqual([
        'data.activityId: property activityId should not exist',
        'data.id: id is missing: the entity needs its vendor id',
        'data.speaker: property speaker should not exist',
        'data.text: property text should not exist',
        'data.transcript.segments: activity.transcript_segment carries exactly one segment',
      ]);
    });

    it('refuses zero or several segments', () => {
      const message = 'data.transcript.segments: activity.transcript_segment carries exactly one segment';
      expect(validateCloudEvent(segment([]))).toEqual([message]);
      expect(validateCloudEvent(segment([{ text: 'a' }, { text: 'b' }]))).toEqual([message]);
    });

    it('refuses a segment time that is not ISO-8601 (vendor unix seconds must be converted)', () => {
      expect(validateCloudEvent(segment([{ text: 'Hello', at: '111111' }]))).toEqual([
        'data.transcript.segments.0.at: at must be a valid ISO 8601 date string',
      ]);
    });
  });
});

/**
 * Issue 11: validateCloudEvent answers a valid event from compiled validators (conforms) and asks class-validator
 * only about the rest. The compiled way must never pass an event class-validator refuses, and should take every
 * event the shipped mappings make.
 */
describe(conforms.name, () => {
  const valid: CloudEvent[] = [
    ...expectedEvents().map(({ type, data }) => cloudEvent(type, data)),
    activityCompleted({ changes: { description: null } }, { vendoreventid: 'v1', enrichment: 'enriched' }),
  ];

  it('compiles a validator for every canonical type', () => {
    for (const type of CANONICAL_TYPES) expect(() => conforms(cloudEvent(type, {}))).not.toThrow();
  });

  it('takes every event the mapping cases expect', () => {
    expect(valid.length).toBeGreaterThan(30);
    expect(valid.filter((event) => !conforms(event)).map((event) => describeProblems(event))).toEqual([]);
  });

  it.each<[string, CloudEvent]>([
    ['a null', activityCompleted({ title: null })],
    [
      'an astral subject past the limit in UTF-16 units',
      activityCompleted({}, { subject: `activity:x:${'😀'.repeat(300)}` }),
    ],
    ['a subject without its vendor id', activityCompleted({}, { subject: 'activity:telephony:null' })],
    ['a date that does not exist', activityCompleted({ startedAt: '2024-02-30T10:00:00Z' })],
    ['an email class-validator refuses', activityCompleted({ participants: [{ role: 'agent', email: 'ana@' }] })],
    ['an infinite duration', activityCompleted({ durationSeconds: Infinity })],
    ['an undeclared field', activityCompleted({ colour: 'red' })],
  ])('leaves %s to class-validator', (_why, event) => {
    expect(conforms(event)).toBe(false);
  });

  /** Any JSON-ish value, including the ones the rules turn on. */
  const anyValue = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(
      null,
      undefined,
      '',
      '  ',
      'null',
      NaN,
      Infinity,
      -1,
      1.5,
      0,
      '2024-05-01',
      '2024-05-01T10:00:00Z',
      '2024-05-01t10:00:00z',
      '2024-02-30T10:00:00Z',
      '2024-05-01T10:00:00.123+02:00',
      'ana@example.com',
      'ana@',
      '😀',
      'call',
      'agent',
      [],
      {},
      [{}],
    ),
  );

  /** Every path in an event: each object key and array index, with the container that holds it. */
  const paths = (value: unknown, at: (string | number)[] = []): (string | number)[][] => {
    if (!value || typeof value !== 'object') return [];
    const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
    return keys.flatMap((key) => [[...at, key], ...paths((value as Record<string, unknown>)[key], [...at, key])]);
  };

  const mutated = (event: CloudEvent, edits: { pick: number; action: number; value: unknown; key: string }[]) => {
    const copy = structuredClone(event) as unknown as Record<string, unknown>;
    for (const edit of edits) {
      const all = paths(copy);
      const path = all[edit.pick % all.length];
      let holder = copy as Record<string | number, unknown>;
      for (const step of path.slice(0, -1)) holder = holder[step] as Record<string | number, unknown>;
      const last = path[path.length - 1];
      // A copy each time: fast-check hands the same value to several edits and runs, and an edit that later adds a
      // key inside it must not change (or close a cycle through) the generator's own object.
      const value = structuredClone(edit.value);
      if (edit.action === 0) delete holder[last];
      else if (edit.action === 1) holder[last] = value;
      else if (holder[last] && typeof holder[last] === 'object' && !Array.isArray(holder[last])) {
        (holder[last] as Record<string, unknown>)[edit.key] = value;
      } else holder[last] = value;
    }
    return copy as unknown as CloudEvent;
  };

  it('never passes an event class-validator refuses', () => {
    const edit = fc.record({
      pick: fc.nat(),
      action: fc.integer({ min: 0, max: 2 }),
      value: anyValue,
      key: fc.constantFrom('extra', 'id', 'email', 'startedAt', 'changes', 'role'),
    });
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(edit, { minLength: 1, maxLength: 3 }), (event, edits) => {
        const candidate = mutated(event, edits);
        if (conforms(candidate)) expect(describeProblems(candidate)).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });
});
