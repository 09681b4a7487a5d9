/*
 * The bare-Node ceiling of pipeline.bench.ts: the hub's job with nothing durable. node:http only; per request it
 * verifies the Svix signature on the raw bytes (standardwebhooks, like the hub), parses, runs the same shipped
 * JSONata mapping with the same bindings, wraps the CloudEvents envelope, acks 202, then POSTs the event, signed,
 * to each destination over one keep-alive pool. No Postgres, no Redis, no retries: what the hub is measured against.
 *
 * POST /hooks/askelephant/<n>: Standard Webhooks verification, AskElephant mapping by `type`, n destinations.
 * POST /hooks/salesask/<n>:    url-token (nothing to verify), Sales Ask mapping by `event`, n destinations.
 * Env: CEILING_SECRET (whsec_…), CEILING_SINK (http://127.0.0.1:port), CEILING_ROOT (repository root).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { Webhook } from 'standardwebhooks';

const root = process.env.CEILING_ROOT!;
const inbound = new Webhook(process.env.CEILING_SECRET!);
const outbound = new Webhook(randomBytes(32).toString('base64'));
const sink = process.env.CEILING_SINK!;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const compiled = new Map<string, ReturnType<typeof jsonata>>();

function mapping(connector: string, type: string): ReturnType<typeof jsonata> {
  const key = `${connector}/${type}`;
  let expression = compiled.get(key);
  if (!expression) {
    expression = jsonata(readFileSync(join(root, 'mappings', connector, `${type}.jsonata`), 'utf8'));
    compiled.set(key, expression);
  }
  return expression;
}

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
  const result = (await mapping(connector, type).evaluate(body, {
    connector,
    sourceId: `src_ceiling_${connector}`,
    receivedAt,
    occurredAt: body.created_at,
    eventId: body.id,
  })) as { type: string; subject: string; time?: string; data: unknown };
  const id = `in_${++sequence}`;
  return { id, destinations, event: { result, body, type, receivedAt, connector } };
}

function deliver(
  inboundId: string,
  destinations: number,
  mapped: { result: { type: string; subject: string; time?: string; data: unknown }; body: { id?: string } } & {
    type: string;
    receivedAt: string;
    connector: string;
  },
) {
  const event = JSON.stringify({
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
    req.on('response', (res) => res.resume());
    req.on('error', () => undefined); // nothing durable: a failed POST is lost, which is the point of the ceiling
    req.end(event);
  }
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const [, hooks, connector, count] = (req.url ?? '').split('/');
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (hooks !== 'hooks' || req.method !== 'POST') return void res.writeHead(404).end();
    handle(connector, Number(count ?? 1), Buffer.concat(chunks), req.headers).then(
      (mapped) => {
        const reply = JSON.stringify({ id: mapped.id });
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
        res.end(reply);
        deliver(mapped.id, mapped.destinations, mapped.event);
      },
      () => void res.writeHead(400, { 'content-length': '0' }).end(),
    );
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
process.on('disconnect', () => process.exit(0));
