import { ConnectorRegistry } from '../connectors/connector.registry';
import { MappingService } from './mapping.service';

/** DESIGN §4: every event about one call or meeting, from initiated to transcribed, shares one activity subject. */
const registry = new ConnectorRegistry();
const mappings = new MappingService();
// Its worker threads are idle and unref'd, but --runInBand runs every file in one process: stop them.
afterAll(() => mappings.close());

async function subjectsOf(connectorId: string, files: string[]): Promise<string[]> {
  const connector = registry.get(connectorId);
  const subjects: string[] = [];
  for (const file of files) {
    const raw = registry.sample(connector, file);
    const body = JSON.parse(raw.toString()) as unknown;
    const envelope = registry.envelope(connector, body, raw);
    const events = await mappings.map(body, {
      connector: connectorId,
      vendorEventType: envelope.eventType,
      vendorEventId: envelope.eventId,
      inboundEventId: `in_${file}`,
      sourceId: 'src_subjects',
      receivedAt: new Date(),
      occurredAt: envelope.occurredAt,
      test: envelope.test,
    });
    subjects.push(...events.map((e) => e.subject));
  }
  return subjects;
}

describe('one subject per call or meeting', () => {
  it('telephony: call_id and call.id shapes give one subject across the call lifecycle', async () => {
    const files = ['call_initiated', 'call_ringing', 'call_answered', 'transcript', 'call_ended', 'error'].map(
      (e) => `${e}.json`,
    );
    expect(new Set(await subjectsOf('telephony', files))).toEqual(new Set(['activity:telephony:1']));
  });

  it('telephony: a call whose events switch between the flat and nested shapes keeps one subject', async () => {
    const files = ['transcript.flat.json', 'call_ended.nested.json', 'error.flat.json'];
    expect(new Set(await subjectsOf('telephony', files))).toEqual(new Set(['activity:telephony:2']));
  });

  it('AskElephant: engagement events and the transcript event share the engagement subject', async () => {
    const files = ['created', 'updated', 'deleted', 'transcript_timeline.completed'].map(
      (e) => `v1.engagement.${e}.json`,
    );
    const subjects = new Set(await subjectsOf('askelephant', files));
    expect(subjects.size).toBe(1);
    expect([...subjects][0]).toMatch(/^activity:askelephant:ngmt_/);
  });

  it('Asan: call.completed and call.recording_ready share the call subject', async () => {
    const subjects = new Set(await subjectsOf('asan', ['call.completed.json', 'call.recording_ready.json']));
    expect(subjects.size).toBe(1);
    expect([...subjects][0]).toMatch(/^activity:asan:/);
  });

  it('Salescaling: every meeting status and the signal about that meeting share its subject', async () => {
    const connector = registry.get('salescaling');
    const statusFiles = connector.events.find((e) => e.type === 'meeting_status_changed')!.samples;
    const subjects = new Set(await subjectsOf('salescaling', statusFiles));
    expect(subjects.size).toBe(1);
  });
});
