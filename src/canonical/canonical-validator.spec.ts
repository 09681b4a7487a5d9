import 'reflect-metadata';
import { validateCloudEvent } from './canonical-validator';
import { CloudEvent } from './cloud-event';

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
});
