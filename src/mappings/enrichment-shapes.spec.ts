import fc from 'fast-check';
import type { CloudEvent } from '../canonical/cloud-event';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { MappingService } from './mapping.service';

/*
 * Issue 12: neither vendor documents the answer of the API the hub fetches (AskElephant's transcript timeline, Sales
 * Ask's recording), so the mappings read it tolerantly (DESIGN §4 "Shapes"). Each spoken line is written into a
 * document in a randomly drawn shape — container key, wrapper, speaker form, text key, time form, extra fields — and
 * every variant must give the same transcript segments, with every time as ISO-8601 UTC. Fixed seed: a failure
 * replays identically.
 */
const registry = new ConnectorRegistry();
const mappings = new MappingService();
afterAll(() => mappings.close());
const SEED = 20261201;
const RUNS = 40;

interface Line {
  speaker: string;
  text: string;
  /** Seconds from the start of the call. */
  offset: number;
}

const lines = fc.array(
  fc.record({
    speaker: fc.constantFrom('Jane Doe', 'Omar Reyes', 'Rita Rep', 'Jürgen Groß'),
    text: fc.constantFrom('Shall we start?', 'Pricing first.', 'Agreed — next steps.', '日本語も大丈夫です。'),
    offset: fc.integer({ min: 0, max: 3600 }),
  }),
  { minLength: 1, maxLength: 5 },
);

async function map(connector: string, file: string, enrichment: unknown): Promise<CloudEvent> {
  const definition = registry.get(connector);
  const raw = registry.sample(definition, file);
  const body = JSON.parse(raw.toString('utf8')) as unknown;
  const envelope = registry.envelope(definition, body, raw);
  const [event] = await mappings.map(body, {
    connector,
    vendorEventType: envelope.eventType,
    vendorEventId: envelope.eventId,
    inboundEventId: 'in_variant',
    sourceId: 'src_variant',
    receivedAt: new Date('2026-01-01T00:00:00.000Z'),
    occurredAt: envelope.occurredAt,
    test: envelope.test,
    enrichment: { status: 'enriched', document: JSON.stringify(enrichment) },
  });
  return event;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('AskElephant transcript timeline shapes', () => {
  // The sample engagement starts at 2026-03-09T14:00:00.000Z: offsets count from there.
  const START = Date.parse('2026-03-09T14:00:00.000Z');
  const speakerForms = ['speaker', 'speaker.name', 'speaker_name', 'speakerName', 'participant.name', 'name'] as const;
  const textKeys = ['text', 'content', 'transcript', 'sentence', 'words'] as const;
  const timeForms = ['start_time', 'offset', 'start_ms', 'startMs', 'iso', 'unix', 'unixMs'] as const;
  const containers = ['bare', 'segments', 'transcript_timeline', 'timeline', 'entries', 'items', 'utterances'] as const;

  function segment(line: Line, speaker: string, textKey: string, time: string, extra: boolean) {
    const out: Record<string, unknown> = {};
    if (speaker === 'speaker.name') out.speaker = { name: line.speaker, id: 'usr_1' };
    else if (speaker === 'participant.name') out.participant = { name: line.speaker };
    else out[speaker] = line.speaker;
    out[textKey] = line.text;
    const at = START + line.offset * 1000;
    if (time === 'iso') out.timestamp = iso(at).replace('.000Z', 'Z');
    else if (time === 'unix') out.timestamp = at / 1000;
    else if (time === 'unixMs') out.start_ms = at;
    else if (time === 'start_ms' || time === 'startMs') out[time] = line.offset * 1000;
    else out[time] = line.offset;
    if (extra) Object.assign(out, { sentiment: 'positive', confidence: 0.93 });
    return out;
  }

  it('every shape gives the same segments', async () => {
    await fc.assert(
      fc.asyncProperty(
        lines,
        fc.constantFrom(...speakerForms),
        fc.constantFrom(...textKeys),
        fc.constantFrom(...timeForms),
        fc.constantFrom(...containers),
        fc.boolean(),
        fc.boolean(),
        async (said, speaker, textKey, time, container, wrapped, extra) => {
          const list = said.map((line) => segment(line, speaker, textKey, time, extra));
          const inner = container === 'bare' ? list : { [container]: list, language: 'en' };
          const document = wrapped ? { data: inner } : inner;
          const event = await map('askelephant', 'v1.engagement.transcript_timeline.completed.json', {
            transcriptTimeline: document,
          });
          const transcript = event.data.transcript as { segments: unknown[]; text: string };
          expect(transcript.segments).toEqual(
            said.map((line) => ({ speaker: line.speaker, text: line.text, at: iso(START + line.offset * 1000) })),
          );
          expect(transcript.text).toBe(said.map((line) => `${line.speaker}: ${line.text}`).join('\n'));
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('segments of different shapes in one list each read as if alone', async () => {
    // The mapping resolves key names once per list (speed on long calls); a list that mixes shapes must not suffer.
    const shape = fc.record({
      speaker: fc.constantFrom(...speakerForms),
      textKey: fc.constantFrom(...textKeys),
      time: fc.constantFrom(...timeForms),
      extra: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            lines.map((l) => l[0]),
            shape,
          ),
          { minLength: 2, maxLength: 6 },
        ),
        async (drawn) => {
          const list = drawn.map(([line, s]) => segment(line, s.speaker, s.textKey, s.time, s.extra));
          const event = await map('askelephant', 'v1.engagement.transcript_timeline.completed.json', {
            transcriptTimeline: { segments: list },
          });
          const transcript = event.data.transcript as { segments: unknown[] };
          expect(transcript.segments).toEqual(
            drawn.map(([line]) => ({ speaker: line.speaker, text: line.text, at: iso(START + line.offset * 1000) })),
          );
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a document with nothing recognisable adds no transcript and still maps', async () => {
    const event = await map('askelephant', 'v1.engagement.transcript_timeline.completed.json', {
      transcriptTimeline: { status: 'processing' },
    });
    expect(event.data.transcript).toBeUndefined();
    expect(event.data.customFields).toMatchObject({ transcriptTimeline: { document: { status: 'processing' } } });
  });
});

describe('Sales Ask recording shapes', () => {
  const START = Date.parse('2026-03-09T15:00:00.000Z');
  const wrappers = ['none', 'recording', 'data'] as const;
  const transcriptForms = ['segments', 'utterances-object', 'text'] as const;
  const durationForms = ['duration', 'durationSeconds', 'duration_seconds', 'durationMs', 'clock', 'string'] as const;
  const participantForms = ['objects', 'names', 'attendees'] as const;

  it('every shape gives the same transcript, duration and participants', async () => {
    await fc.assert(
      fc.asyncProperty(
        lines,
        fc.integer({ min: 1, max: 7199 }),
        fc.constantFrom(...wrappers),
        fc.constantFrom(...transcriptForms),
        fc.constantFrom(...durationForms),
        fc.constantFrom(...participantForms),
        async (said, seconds, wrapper, transcriptForm, durationForm, participantForm) => {
          const recording: Record<string, unknown> = { id: 'abc123', startedAt: iso(START), region: 'EMEA' };
          const segments = said.map((line) => ({ speaker: line.speaker, text: line.text, start: line.offset }));
          const text = said.map((line) => `${line.speaker}: ${line.text}`).join('\n');
          if (transcriptForm === 'segments') recording.transcript = segments;
          else if (transcriptForm === 'utterances-object') recording.transcript = { utterances: segments };
          else recording.transcriptText = text;
          const clock = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60]
            .map((n) => String(n).padStart(2, '0'))
            .join(':');
          if (durationForm === 'durationMs') recording.durationMs = seconds * 1000;
          else if (durationForm === 'clock') recording.duration = clock;
          else if (durationForm === 'string') recording.duration = String(seconds);
          else recording[durationForm] = seconds;
          const people = [
            { name: 'Rita Rep', email: 'rita@seller.example', role: 'rep' },
            { name: 'John Doe', email: 'john@buyer.example', role: 'client' },
          ];
          if (participantForm === 'objects') recording.participants = people;
          else if (participantForm === 'names') recording.participants = people.map((p) => p.name);
          else recording.attendees = people.map((p) => ({ fullName: p.name, emailAddress: p.email, type: p.role }));
          const document = wrapper === 'none' ? recording : { [wrapper]: recording };

          const event = await map('salesask', 'recording.processed.json', { recording: document });
          expect(event.data.durationSeconds).toBe(seconds);
          expect(event.data.startedAt).toBe(iso(START));
          expect(event.data.participants).toEqual(
            participantForm === 'names' ? people.map((p) => ({ name: p.name })) : people,
          );
          const transcript = event.data.transcript as { segments?: unknown[]; text: string };
          expect(transcript.text).toBe(text);
          if (transcriptForm !== 'text') {
            expect(transcript.segments).toEqual(
              said.map((line) => ({ speaker: line.speaker, text: line.text, at: iso(START + line.offset * 1000) })),
            );
          }
          // No canonical home: kept raw under customFields.recording.
          expect((event.data.customFields as Record<string, unknown>).recording).toEqual({ region: 'EMEA' });
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
