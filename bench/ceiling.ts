/*
 * The bare-Node ceiling of pipeline.bench.ts: the hub's job with nothing durable. node:http only; per request it
 * verifies the Svix signature on the raw bytes (standardwebhooks, like the hub), parses, runs the same shipped
 * JSONata mapping with the same bindings, wraps the CloudEvents envelope, acks 202, then POSTs the event, signed,
 * to each destination over one keep-alive pool. No Postgres, no Redis, no retries: what the hub is measured against.
 *
 * POST /hooks/askelephant/<n>: Standard Webhooks verification, AskElephant mapping by `type`, n destinations.
 * POST /hooks/salesask/<n>:    url-token (nothing to verify), Sales Ask mapping by `event`, n destinations.
 * Env: CEILING_SECRET (whsec_…), CEILING_SINK (http://127.0.0.1:port), CEILING_ROOT (repository root).
 *
 * CEILING_DATABASE (the URL of an empty Postgres database) makes it the durable floor: the same job plus the least
 * Postgres work that the hub's promise needs, and nothing else. Before its 202, each event is committed with its
 * raw body, its canonical event (jsonb) and a pending row per destination. After each POST, the delivery's outcome
 * is recorded. Requests that arrive together share one statement and one commit, through the hub's own group
 * commit (Coalescer). A crash loses nothing acknowledged: the pending deliveries are in a partial index. It has no
 * retries, ops API, worker threads, secondary indexes or foreign keys. It is a floor for the hub, not a product.
 *
 * CEILING_THREADS=n parses and maps on n piscina threads (ceiling-mapper.ts) instead of in the request, as the
 * hub's mapping threads do: what the hop costs, apart from the rest of the hub. Each thread holds one task at a
 * time, as the hub's MappingPool hands them out; CEILING_TASKS_PER_THREAD=m lets piscina hand it m at once.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { Pool } from 'pg';
import { Piscina } from 'piscina';
import { Webhook } from 'standardwebhooks';
import { Coalescer } from '../src/database/coalescer';
import { CeilingMapTask, mapping } from './ceiling-mapper';

const root = process.env.CEILING_ROOT!;
const inbound = new Webhook(process.env.CEILING_SECRET!);
const outbound = new Webhook(randomBytes(32).toString('base64'));
const sink = process.env.CEILING_SINK!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const threads = Number(process.env.CEILING_THREADS ?? 0);
const mappers = threads
  ? new Piscina<CeilingMapTask, unknown>({
      filename: join(__dirname, 'ceiling-mapper.js'),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: Number(process.env.CEILING_TASKS_PER_THREAD ?? 1),
    })
  : undefined;

let sequence = 0;

async function handle(connector: string, destinations: number, raw: Buffer, headers: http.IncomingHttpHeaders) {
  const text = raw.toString('utf8');
  if (connector === 'askelephant') {
    inbound.verify(text, {
      'webhook-id': headers['svix-id'] as string,
      'webhook-timestamp': headers['svix-timestamp'] as string,
      'webhook-signature': headers['svix-signature'] as string,
    });
  }
  const body = JSON.parse(text) as { id?: string; type?: string; event?: string; created_at?: string };
  const type = connector === 'askelephant' ? body.type! : body.event!;
  const receivedAt = new Date().toISOString();
  const bindings = {
    connector,
    sourceId: `src_ceiling_${connector}`,
    receivedAt,
    occurredAt: body.created_at,
    eventId: body.id,
  };
  const result = (
    mappers
      ? await mappers.run({ root, connector, type, text, bindings })
      : await mapping(root, connector, type).evaluate(body, bindings)
  ) as { type: string; subject: string; time?: string; data: unknown };
  const id = `in_${++sequence}`;
  return { id, destinations, event: { result, body, type, receivedAt, connector } };
}

type Mapped = { result: { type: string; subject: string; time?: string; data: unknown }; body: { id?: string } } & {
  type: string;
  receivedAt: string;
  connector: string;
};

/** The CloudEvent the destinations receive, as JSON text. */
function cloudEvent(inboundId: string, mapped: Mapped): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `evt_${inboundId}`,
    type: mapped.result.type,
    source: `switchboard/sources/src_ceiling_${mapped.connector}`,
    subject: mapped.result.subject,
    time: mapped.result.time ?? mapped.receivedAt,
    datacontenttype: 'application/json',
    connector: mapped.connector,
    vendoreventtype: mapped.type,
    ...(mapped.body.id ? { vendoreventid: mapped.body.id } : {}),
    test: false,
    data: mapped.result.data,
  });
}

/** POSTs the event to each destination; the durable floor records each outcome. */
function deliver(inboundId: string, destinations: number, event: string) {
  for (let d = 1; d <= destinations; d++) {
    const webhookId = `msg_${inboundId}_${d}`;
    const now = new Date();
    const req = http.request(`${sink}/d/${d}`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': outbound.sign(webhookId, now, event),
      },
    });
    req.on('response', (res) => {
      res.resume();
      if (durable) res.on('end', () => durable.record(webhookId, res.statusCode! < 300));
    });
    // The bare ceiling loses a failed POST, which is its point; the floor leaves the delivery pending.
    req.on('error', () => durable?.record(webhookId, false));
    req.end(event);
  }
}

/** The durable floor's two statements (see the top of this file); undefined for the bare ceiling. */
const durable = process.env.CEILING_DATABASE ? durableStore(process.env.CEILING_DATABASE) : undefined;

function durableStore(url: string) {
  const pool = new Pool({ connectionString: url, max: 4 });
  type Stored = { id: string; body: Buffer; event: string; destinations: number };
  const stores = new Coalescer(async (rows: Stored[]) => {
    const deliveries = rows.flatMap(({ id, destinations }) =>
      Array.from({ length: destinations }, (_, d) => [`msg_${id}_${d + 1}`, id]),
    );
    await pool.query(
      `WITH stored AS (
         INSERT INTO event (id, body, event) SELECT * FROM unnest($1::text[], $2::bytea[], $3::jsonb[])
       )
       INSERT INTO delivery (id, event_id) SELECT * FROM unnest($4::text[], $5::text[])`,
      [
        rows.map((row) => row.id),
        rows.map((row) => row.body),
        rows.map((row) => row.event),
        deliveries.map(([id]) => id),
        deliveries.map(([, eventId]) => eventId),
      ],
    );
    return rows.map(() => undefined);
  });
  const records = new Coalescer(async (outcomes: { id: string; ok: boolean }[]) => {
    await pool.query(
      `UPDATE delivery d SET status = CASE WHEN o.ok THEN 'delivered' ELSE d.status END,
              attempts = d.attempts + 1, updated_at = now()
       FROM unnest($1::text[], $2::boolean[]) AS o(id, ok) WHERE d.id = o.id`,
      [outcomes.map((o) => o.id), outcomes.map((o) => o.ok)],
    );
    return outcomes.map(() => undefined);
  });
  return {
    schema: () =>
      pool.query(`
        CREATE TABLE event (id text PRIMARY KEY, body bytea NOT NULL, event jsonb NOT NULL,
                            received_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE delivery (id text PRIMARY KEY, event_id text NOT NULL, status text NOT NULL DEFAULT 'pending',
                               attempts int NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX delivery_pending ON delivery (updated_at) WHERE status = 'pending';`),
    store: (row: Stored) => stores.run(row),
    record: (id: string, ok: boolean) => void records.run({ id, ok }).catch(() => undefined),
  };
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const [, hooks, connector, count] = (req.url ?? '').split('/');
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (hooks !== 'hooks' || req.method !== 'POST') return void res.writeHead(404).end();
    const raw = Buffer.concat(chunks);
    handle(connector, Number(count ?? 1), raw, req.headers).then(
      async (mapped) => {
        const event = cloudEvent(mapped.id, mapped.event);
        if (durable) {
          try {
            await durable.store({ id: mapped.id, body: raw, event, destinations: mapped.destinations });
          } catch {
            return void res.writeHead(503, { 'content-length': '0' }).end();
          }
        }
        const reply = JSON.stringify({ id: mapped.id });
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
        res.end(reply);
        deliver(mapped.id, mapped.destinations, event);
      },
      () => void res.writeHead(400, { 'content-length': '0' }).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
void (durable ? durable.schema() : Promise.resolve()).then(() =>
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port })),
);
process.on('disconnect', () => process.exit(0));
