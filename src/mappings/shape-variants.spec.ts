import fc from 'fast-check';
import type { CloudEvent } from '../canonical/cloud-event';
import type { ConnectorDefinition } from '../connectors/connector';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { MappingService } from './mapping.service';

/*
 * DESIGN §4 "Shapes": a vendor document's example is one instance, not the schema. Every sample of every connector is
 * rewritten into the shapes a real delivery may take, and each variant must map to valid canonical events with the
 * same type, subject and key fields as the sample itself:
 * - telephony: the call reference flat (payload.call_id, from, to, …) and nested (payload.call.{id, from, to, …});
 * - Salescaling: flat and wrapped under `data`, snake_case and camelCase keys;
 * - every connector: optional fields removed, unknown fields added, keys reordered, non-ASCII text.
 * Random variants come from fast-check with a fixed seed, so a failure replays identically.
 */
const registry = new ConnectorRegistry();
const mappings = new MappingService();
const SEED = 20260310;
const RUNS = 12;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The data fields that identify what an event is about; a variant may lose a title, never these. */
const KEY_FIELDS = ['id', 'kind', 'status', 'activityId', 'code', 'category', 'activity', 'channel'];

/**
 * Vendor fields a variant must keep (dot paths, `*` for any array index): the envelope, and the fields the
 * entity's id, kind and status come from. Removing any other field must leave type, subject and key fields alone.
 */
const REQUIRED: Record<string, string[]> = {
  telephony: ['payload', 'payload.call_id', 'payload.call', 'payload.call.id', 'payload.transcript'],
  salescaling: [
    'data',
    'status',
    'data.status',
    'data.meeting',
    'data.meeting.id',
    'meetingId',
    'data.meetingId',
    'data.note',
    'data.note.id',
    'noteId',
    'activityId',
    'data.activityId',
    'activityType',
    'data.activityType',
    'code',
    'data.code',
    'category',
    'data.category',
  ],
  asan: ['data', 'data.call_id', 'data.lead_id', 'data.deal_id', 'data.meeting_id', 'data.new_status'],
  askelephant: [
    'data',
    'data.object',
    'data.object.id',
    'data.object.engagement_type',
    'data.object.processing_status',
  ],
  salesask: ['data', 'data.id'],
};

/** Free-text fields, where a vendor may send any language. */
const TEXT_FIELDS = new Set([
  'title',
  'name',
  'message',
  'transcript',
  'content',
  'description',
  'evidence',
  'error_message',
  'notes',
  'summary',
  'body',
  'text',
  'first_name',
  'last_name',
]);
const NON_ASCII = ' — Grüße, çağrı, 日本語, Ελληνικά, عربى 😊';

interface Sample {
  connector: ConnectorDefinition;
  file: string;
  body: JsonObject;
}

const samples: Sample[] = registry.list().flatMap((connector) =>
  connector.events.flatMap((event) =>
    event.samples.map((file) => ({
      connector,
      file,
      body: JSON.parse(registry.sample(connector, file).toString('utf8')) as JsonObject,
    })),
  ),
);

async function mapBody(connector: ConnectorDefinition, body: unknown): Promise<CloudEvent[]> {
  const raw = Buffer.from(JSON.stringify(body));
  const envelope = registry.envelope(connector, body, raw);
  return mappings.map(body, {
    connector: connector.id,
    vendorEventType: envelope.eventType,
    vendorEventId: envelope.eventId,
    inboundEventId: 'in_variant',
    sourceId: 'src_variant',
    receivedAt: new Date('2026-01-01T00:00:00.000Z'),
    occurredAt: envelope.occurredAt,
    test: envelope.test,
  });
}

/** What a variant must keep: type, subject, time and the key data fields. */
function identity(events: CloudEvent[]) {
  return events.map((e) => ({
    type: e.type,
    subject: e.subject,
    time: e.time,
    data: Object.fromEntries(KEY_FIELDS.filter((k) => k in e.data).map((k) => [k, e.data[k]])),
  }));
}

/** Everything a variant that carries the same information must reproduce. */
function everything(events: CloudEvent[]) {
  return events.map(({ type, subject, time, test, data }) => ({ type, subject, time, test, data }));
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const clone = <T>(value: T): T => structuredClone(value);
const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function renameKeys(value: Json, rename: (key: string) => string): Json {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]));
}

/** Every dot path of the body (array items as `*`), leaves and objects alike. */
function paths(value: Json, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => paths(item, `${prefix}*.`));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...paths(v, `${prefix}${k}.`)]);
}

function removePath(value: Json, path: string[]): void {
  const [head, ...rest] = path;
  if (Array.isArray(value)) return value.forEach((item) => removePath(item, path.slice(1)));
  if (!isObject(value) || !(head in value)) return;
  if (rest.length === 0) delete value[head];
  else removePath(value[head], rest);
}

function envelopePaths(connector: ConnectorDefinition): string[] {
  const { eventType, eventId, occurredAt, test } = connector.envelope;
  return [eventType, eventId, occurredAt, test].filter((p): p is string => !!p);
}

function optionalPaths(sample: Sample): string[] {
  const keep = new Set([...envelopePaths(sample.connector), ...(REQUIRED[sample.connector.id] ?? [])]);
  return [...new Set(paths(sample.body))].filter((p) => !keep.has(p));
}

/** Telephony: the same call reference flat (payload.call_id + from/to/direction/source) or nested (payload.call). */
const CALL_FIELDS = ['from', 'to', 'direction', 'source'];
function telephonyFlat(body: JsonObject): JsonObject {
  const copy = clone(body);
  const payload = copy.payload as JsonObject;
  if (!isObject(payload.call)) return copy;
  const { id, ...rest } = payload.call;
  delete payload.call;
  Object.assign(payload, { call_id: id, ...rest });
  return copy;
}
function telephonyNested(body: JsonObject): JsonObject {
  const copy = clone(body);
  const payload = copy.payload as JsonObject;
  if (isObject(payload.call)) return copy;
  const call: JsonObject = { id: payload.call_id };
  delete payload.call_id;
  for (const field of CALL_FIELDS.filter((f) => f in payload)) {
    call[field] = payload[field];
    delete payload[field];
  }
  payload.call = call;
  return copy;
}

/** Salescaling: the envelope keys stay at the top; every other field flat beside them or wrapped under `data`. */
const SALESCALING_ENVELOPE = ['event', 'timestamp'];
const SALESCALING_ENTITIES = ['meeting', 'note'];
function salescalingFlat(body: JsonObject): JsonObject {
  const inner = isObject(body.data) ? body.data : {};
  const flat: JsonObject = Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'data'));
  for (const [key, value] of Object.entries(inner)) {
    // DESIGN §4's flat form: {"event", "status", "meetingId", "title", …}: an entity object becomes <entity>Id + fields.
    if (SALESCALING_ENTITIES.includes(key) && isObject(value)) {
      const { id, ...fields } = value;
      flat[`${key}Id`] = id;
      for (const [field, v] of Object.entries(fields)) if (!(field in inner)) flat[field] = v;
    } else {
      flat[key] = value;
    }
  }
  return flat;
}
function salescalingWrapped(body: JsonObject): JsonObject {
  const envelope = Object.fromEntries(Object.entries(body).filter(([k]) => SALESCALING_ENVELOPE.includes(k)));
  const rest = Object.fromEntries(Object.entries(body).filter(([k]) => !SALESCALING_ENVELOPE.includes(k)));
  const data = isObject(rest.data) && Object.keys(rest).length === 1 ? rest.data : rest;
  return { ...envelope, data };
}
function salescalingKeys(body: JsonObject, rename: (key: string) => string): JsonObject {
  const copy = clone(body);
  for (const [key, value] of Object.entries(copy)) {
    if (!SALESCALING_ENVELOPE.includes(key)) {
      delete copy[key];
      copy[rename(key)] = renameKeys(value, rename);
    }
  }
  return copy;
}

/** The deterministic shape variants of a sample: each carries exactly the same information. */
function shapeVariants(sample: Sample): [string, JsonObject][] {
  switch (sample.connector.id) {
    case 'telephony':
      return [
        ['flat call reference', telephonyFlat(sample.body)],
        ['nested call reference', telephonyNested(sample.body)],
      ];
    case 'salescaling': {
      const flat = salescalingFlat(sample.body);
      const wrapped = salescalingWrapped(sample.body);
      return [
        ['flat', flat],
        ['wrapped under data', wrapped],
        ['flat, snake_case', salescalingKeys(flat, snake)],
        ['wrapped, snake_case', salescalingKeys(wrapped, snake)],
        ['flat, camelCase', salescalingKeys(salescalingKeys(flat, snake), camel)],
        ['wrapped, camelCase', salescalingKeys(salescalingKeys(wrapped, snake), camel)],
      ];
    }
    default:
      return [];
  }
}

/** Adds `extras` to the body's top level and to every nested object; names cannot collide with vendor fields. */
function withExtras(value: Json, extras: JsonObject): Json {
  if (Array.isArray(value)) return value.map((item) => withExtras(item, extras));
  if (!isObject(value)) return value;
  const copy: JsonObject = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withExtras(v, extras)]));
  return { ...copy, ...extras };
}

function reordered(value: Json, order: number[]): Json {
  if (Array.isArray(value)) return value.map((item) => reordered(item, order));
  if (!isObject(value)) return value;
  const entries = Object.entries(value);
  const shuffled = entries
    .map((entry, i) => ({ entry, rank: order[i % order.length] ?? i }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ entry: [k, v] }) => [k, reordered(v, order)] as const);
  return Object.fromEntries(shuffled);
}

function withNonAscii(value: Json, key = ''): Json {
  if (Array.isArray(value)) return value.map((item) => withNonAscii(item, key));
  if (typeof value === 'string') return TEXT_FIELDS.has(key) ? value + NON_ASCII : value;
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withNonAscii(v, k)]));
}

const extraValue: fc.Arbitrary<Json> = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string(), { maxKeys: 3 }),
);
const extras: fc.Arbitrary<JsonObject> = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 10 }).map((k) => `zz_unknown_${k}`),
  extraValue,
  { minKeys: 1, maxKeys: 4 },
);

describe('shape variants of every sample', () => {
  it('covers every connector and the documented shapes', () => {
    expect(new Set(samples.map((s) => s.connector.id))).toEqual(new Set(registry.list().map((c) => c.id)));
    expect(samples.filter((s) => s.connector.id === 'telephony').length).toBeGreaterThanOrEqual(9);
  });

  describe.each(samples.map((s) => [`${s.connector.id}/${s.file}`, s] as const))('%s', (_name, sample) => {
    let original: CloudEvent[];

    beforeAll(async () => {
      original = await mapBody(sample.connector, sample.body);
    });

    const variants = shapeVariants(sample);
    if (variants.length) {
      it.each(variants)('%s: the same canonical events', async (_variant, body) => {
        expect(everything(await mapBody(sample.connector, body))).toEqual(everything(original));
      });
    }

    it('optional fields removed: same type, subject and key fields', async () => {
      const optional = optionalPaths(sample);
      expect(optional.length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(fc.subarray(optional, { minLength: 1 }), async (removed) => {
          const body = clone(sample.body);
          for (const path of removed) removePath(body, path.split('.'));
          expect(identity(await mapBody(sample.connector, body))).toEqual(identity(original));
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // Each one alone too: a single dropped field is the commonest real difference.
      for (const path of optional) {
        const body = clone(sample.body);
        removePath(body, path.split('.'));
        expect({ removed: path, events: identity(await mapBody(sample.connector, body)) }).toEqual({
          removed: path,
          events: identity(original),
        });
      }
    });

    it('unknown fields added everywhere: same type, subject and key fields', async () => {
      await fc.assert(
        fc.asyncProperty(extras, async (added) => {
          const body = withExtras(sample.body, added);
          expect(identity(await mapBody(sample.connector, body))).toEqual(identity(original));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('keys in a different order: the same canonical events', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 12 }), async (order) => {
          const body = reordered(sample.body, order);
          expect(everything(await mapBody(sample.connector, body))).toEqual(everything(original));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it('non-ASCII text: same type, subject and key fields, and the text survives', async () => {
      const body = withNonAscii(sample.body);
      const events = await mapBody(sample.connector, body);
      expect(identity(events)).toEqual(identity(original));
      if (JSON.stringify(body) !== JSON.stringify(sample.body)) {
        expect(JSON.stringify(events.map((e) => e.data))).toContain(NON_ASCII.trim());
      }
    });
  });
});

describe('what a variant cannot map fails visibly, naming what is missing', () => {
  async function failure(connectorId: string, body: unknown): Promise<string> {
    try {
      await mapBody(registry.get(connectorId), body);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected the mapping to fail');
  }

  it('telephony without a call id in either shape', async () => {
    const body = {
      event_type: 'call_ringing',
      timestamp_utc: 1760084555,
      payload: { call: { from: '+90' }, call_id: '' },
    };
    expect(await failure('telephony', body)).toMatch(/without a call id \(payload\.call_id or payload\.call\.id\)/);
  });

  it('Salescaling with an unknown status, flat or wrapped', async () => {
    const flat = { event: 'meeting_status_changed', status: 'meeting_exploded', meetingId: 'mtg_1' };
    expect(await failure('salescaling', flat)).toMatch(/unknown meeting status meeting_exploded/);
    const wrapped = { event: 'meeting_note_status_changed', data: { status: 'archived', note: { id: 'n1' } } };
    expect(await failure('salescaling', wrapped)).toMatch(/unknown meeting note status archived/);
  });

  it('Salescaling without the entity id', async () => {
    const meeting = { event: 'meeting_status_changed', data: { status: 'meeting_created', meeting: { title: 'x' } } };
    expect(await failure('salescaling', meeting)).toMatch(
      /without a meeting id \(meeting\.id, meetingId or meeting_id\)/,
    );
    const signal = { event: 'commercial_signal_detected', code: 'churn_risk', category: 'risk' };
    expect(await failure('salescaling', signal)).toMatch(/without an activity id/);
  });
});
