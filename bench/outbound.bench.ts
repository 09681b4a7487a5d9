/*
 * Outbound delivery throughput: `npx ts-node --transpile-only bench/outbound.bench.ts`. Posts N ~600-byte JSON
 * bodies at fixed concurrency to a keep-alive sink on 127.0.0.1 (its own process, so it does not share our event
 * loop) and prints requests/s, latency percentiles and the client's CPU per request (this process only) for:
 *   (a) OutboundClient: undici on a keep-alive pool (what deliveries use; axios until issue 11);
 *   (b) node:http with a new connection per request (`agent: false`, the sender before issue 7);
 *   (c) node:http on a keep-alive agent, no client library: what the pool alone buys, and what the client costs.
 * BENCH_TLS=1 runs the same against an HTTPS sink. Figures only: nothing here asserts. BENCH_REQUESTS, BENCH_CONCURRENCY and BENCH_ROUNDS override the defaults.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { OutboundClient } from '../src/outbound/outbound.client';
import { guardedLookup } from '../src/outbound/outbound-guard';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ALLOW: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('127.0.0.0/8')];

/** A CloudEvent-shaped body of about 600 bytes, like a typical delivery. */
function body(i: number): string {
  return JSON.stringify({
    specversion: '1.0',
    id: `evt_${String(i).padStart(24, '0')}`,
    type: 'activity.completed',
    source: 'switchboard/sources/src_4mJ8sQx2ZbVnT7kLpW3yRd',
    subject: 'activity:telephony:call_8812734',
    time: '2026-03-09T14:45:00.000Z',
    datacontenttype: 'application/json',
    connector: 'telephony',
    vendoreventtype: 'call_ended',
    test: false,
    data: {
      id: 'call_8812734',
      kind: 'call',
      status: 'completed',
      direction: 'outbound',
      startedAt: '2026-03-09T14:40:00.000Z',
      endedAt: '2026-03-09T14:45:00.000Z',
      durationSeconds: 300,
      participants: [
        { role: 'caller', phone: '+15550100001' },
        { role: 'callee', phone: '+15550100002' },
      ],
    },
  });
}

const HEADERS = {
  'content-type': 'application/json',
  'user-agent': 'Switchboard-Webhooks/0.1',
  'webhook-id': 'dlv_bench',
  'webhook-timestamp': '1767225600',
  'webhook-signature': 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
};

/** The sink: reads the body, answers 200 with a short body, keeps connections alive. Prints its port. */
const SINK = `
const tls = process.argv[1];
const http = require(tls ? 'node:https' : 'node:http');
const fs = require('node:fs');
const options = tls ? { key: fs.readFileSync(tls + '/key.pem'), cert: fs.readFileSync(tls + '/cert.pem') } : {};
let connections = 0;
const server = http.createServer(options, (req, res) => {
  req.resume();
  req.on('end', () => res.end('{"ok":true}'));
});
server.keepAliveTimeout = 60000;
server.on(tls ? 'secureConnection' : 'connection', () => connections++);
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('message', () => process.send(connections));
`;

/** BENCH_TLS=1: an HTTPS sink on a throwaway self-signed certificate, as most real receivers are. */
const TLS_DIR = process.env.BENCH_TLS ? mkdtempSync(join(tmpdir(), 'outbound-bench-')) : undefined;
if (TLS_DIR) {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(TLS_DIR, 'key.pem'),
      '-out',
      join(TLS_DIR, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  // The bench process only: the client must accept the throwaway certificate.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
}

const sinks: ChildProcess[] = [];
process.on('exit', () => sinks.forEach((child) => child.kill()));

async function startSink(): Promise<{ child: ChildProcess; url: string }> {
  const args = ['-e', SINK, ...(TLS_DIR ? [TLS_DIR] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  sinks.push(child);
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { child, url: `${TLS_DIR ? 'https' : 'http'}://127.0.0.1:${port}/hook` };
}

async function sinkConnections(child: ChildProcess): Promise<number> {
  child.send('count');
  return new Promise((resolve) => child.once('message', (n) => resolve(n as number)));
}

const agentOptions = { keepAlive: true, lookup: guardedLookup(ALLOW) as unknown as http.AgentOptions['lookup'] };
const keepAlive = TLS_DIR ? new https.Agent(agentOptions) : new http.Agent(agentOptions);

/** The sender before issue 7, reduced to what costs time: node:http, a fresh connection per POST. */
function postPlain(url: string, payload: string, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? https : http).request(
      url,
      {
        method: 'POST',
        agent,
        lookup: guardedLookup(ALLOW) as unknown as http.RequestOptions['lookup'],
        headers: { ...HEADERS, 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

interface Round {
  seconds: number;
  latencies: number[];
  failures: number;
  /** CPU of this process (the client; the sink is its own process), µs. */
  cpuMicros: number;
}

async function round(send: (payload: string) => Promise<number>): Promise<Round> {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        const payload = body(next++);
        const t0 = performance.now();
        const status = await send(payload);
        latencies.push(performance.now() - t0);
        if (status !== 200) failures++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, latencies, failures, cpuMicros: used.user + used.system };
}

interface Variant {
  name: string;
  send: (url: string, payload: string) => Promise<number>;
  sink?: { child: ChildProcess; url: string };
  rounds: Round[];
}

async function main() {
  console.log(
    `outbound bench${TLS_DIR ? ' (HTTPS)' : ''}: ${TOTAL} POSTs of ${Buffer.byteLength(body(0))} bytes at concurrency ${CONCURRENCY}, ` +
      `${ROUNDS} interleaved rounds per variant (the median round's req/s; p50/p99 over every request)`,
  );
  const client = new OutboundClient(ALLOW);
  const variants: Variant[] = [
    {
      name: '(a) OutboundClient: undici, keep-alive',
      send: async (url, payload) =>
        (await client.request({ method: 'POST', url, headers: HEADERS, body: payload })).statusCode ?? 0,
      rounds: [],
    },
    { name: '(b) node:http, new connection per request', send: (url, p) => postPlain(url, p, false), rounds: [] },
    { name: '(c) node:http, keep-alive (no client library)', send: (url, p) => postPlain(url, p, keepAlive), rounds: [] },
  ];
  // One sink per variant, so connection counts are per variant; a warm-up (JIT, pool) that is not measured.
  for (const variant of variants) {
    const sink = (variant.sink = await startSink());
    for (let i = 0; i < 200; i++) await variant.send(sink.url, body(i));
  }
  // Interleaved rounds: the machine is shared, so a noisy moment does not land on one variant only.
  for (let r = 0; r < ROUNDS; r++) {
    for (const variant of variants) variant.rounds.push(await round((p) => variant.send(variant.sink!.url, p)));
  }
  const rows = [];
  for (const variant of variants) {
    const rates = variant.rounds.map((r) => TOTAL / r.seconds).sort((a, b) => a - b);
    const latencies = variant.rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    rows.push({
      name: variant.name,
      'req/s': Math.round(rates[Math.floor(rates.length / 2)]),
      'req/s per round': rates.map(Math.round).join(' '),
      'p50 ms': Number(pct(50).toFixed(2)),
      'p99 ms': Number(pct(99).toFixed(2)),
      'client CPU µs/req': Math.round(
        variant.rounds.reduce((n, r) => n + r.cpuMicros, 0) / (variant.rounds.length * TOTAL),
      ),
      failures: variant.rounds.reduce((n, r) => n + r.failures, 0),
      'sink connections': await sinkConnections(variant.sink!.child),
    });
    variant.sink!.child.kill();
  }
  client.close();
  keepAlive.destroy();
  if (TLS_DIR) rmSync(TLS_DIR, { recursive: true, force: true });
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
