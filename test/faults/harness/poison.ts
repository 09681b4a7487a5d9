import { randomBytes } from 'node:crypto';
import { asanHeaders, sample, svixHeaders, whsec } from '../../helpers/vendors';

export interface PoisonConnector {
  connector: string;
  sample: string;
  /** The object the mapping reads the activity from. */
  container: string[];
  /** The field that becomes the canonical subject: a poison value here is sure to reach the mapping. */
  idField: string;
  /** Secrets for the source, and how to sign one body with them. */
  secrets: () => string[];
  sign: (secrets: string[], body: string) => Record<string, string>;
}

const json = { 'content-type': 'application/json' };

export const POISON_CONNECTORS: PoisonConnector[] = [
  {
    connector: 'salesask',
    sample: 'recording.processed.json',
    container: ['data'],
    idField: 'id',
    secrets: () => [],
    sign: () => json,
  },
  {
    connector: 'askelephant',
    sample: 'v1.engagement.updated.json',
    container: ['data', 'object'],
    idField: 'id',
    secrets: () => [whsec()],
    sign: ([secret], body) => svixHeaders(secret, body),
  },
  {
    connector: 'asan',
    sample: 'call.completed.json',
    container: ['data'],
    idField: 'call_id',
    secrets: () => [randomBytes(16).toString('hex')],
    sign: ([secret], body) => asanHeaders(secret, body),
  },
  {
    connector: 'salescaling',
    sample: 'meeting_status_changed.meeting_created.json',
    container: ['data', 'meeting'],
    idField: 'id',
    secrets: () => [randomBytes(16).toString('hex')],
    sign: ([token]) => ({ ...json, 'x-webhook-token': token }),
  },
  {
    connector: 'telephony',
    sample: 'call_ended.json',
    container: ['payload'],
    idField: 'call_id',
    secrets: () => [randomBytes(16).toString('hex')],
    sign: ([token]) => ({ ...json, 'x-webhook-token': token }),
  },
];

/** A marker replaced by raw JSON text after stringifying: a 100 000-deep array cannot go through JSON.stringify. */
const RAW = '__poison_raw__';

export interface PoisonBody {
  kind: string;
  /**
   * Valid input after all: the connector's mapping ignores unknown fields, so the event may end `normalized`
   * (with a bounded output). It must still settle, never stay `received`.
   */
  mayNormalize?: boolean;
  body: string;
}

/**
 * Valid JSON bodies, each inside the connector's real envelope, that no mapping can turn into a valid canonical
 * event within sane bounds: deep nesting, 60 000 keys, a near-1 MiB string, and a container of the wrong shape.
 */
export function poisonBodies(c: PoisonConnector): PoisonBody[] {
  const base = JSON.parse(sample(c.connector, c.sample).toString()) as Record<string, unknown>;
  const make = (
    mutate: (container: Record<string, unknown>, envelope: Record<string, unknown>) => void,
    raw?: string,
  ) => {
    const envelope = structuredClone(base);
    // AskElephant dedups on the envelope id; the others on the body hash, which the poison makes unique anyway.
    if (c.connector === 'askelephant') envelope.id = `evt_poison_${randomBytes(6).toString('hex')}`;
    let container = envelope;
    for (const key of c.container) container = container[key] as Record<string, unknown>;
    mutate(container, envelope);
    const text = JSON.stringify(envelope);
    return raw === undefined ? text : text.replace(`"${RAW}"`, raw);
  };
  const depth = 100_000;
  const keys: Record<string, string> = {};
  for (let i = 0; i < 60_000; i++) keys[`k${i}`] = 'v';
  const bodies: PoisonBody[] = [
    { kind: 'array nested 100 000 deep (mapped id)', body: make((o) => (o[c.idField] = RAW), nested(depth)) },
    // Beside the mapped fields: Sales Ask copies unknown keys into customFields, the others ignore them, so only
    // an input depth bound in normalisation fails it (issue 7: the RangeError outside the mapping's handling).
    { kind: 'array nested 100 000 deep (extra field)', body: make((o) => (o.deepExtra = RAW), nested(depth)) },
    // Sales Ask and AskElephant copy unknown keys into customFields, so the output bound fails them; the other
    // mappings pick only the fields they know, and for them 60 000 unknown keys are harmless.
    {
      kind: '60 000 custom keys',
      body: make((o) => Object.assign(o, keys)),
      mayNormalize: !['salesask', 'askelephant'].includes(c.connector),
    },
    {
      kind: 'wrong-shaped container (mapping breaks)',
      body: make((_o, envelope) => setPath(envelope, c.container, [1, 'two', { three: null }])),
    },
  ];
  const near = make((o) => (o[c.idField] = ''));
  bodies.push({
    kind: 'string near 1 MiB',
    body: make((o) => (o[c.idField] = 'x'.repeat(1024 * 1024 - Buffer.byteLength(near) - 1024))),
  });
  return bodies;
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}
