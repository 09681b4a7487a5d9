/*
 * Ingest throughput and memory: `npm run bench`. Boots a real hub (own database and queue prefix) on loopback,
 * sends a bounded number of webhooks at fixed concurrency, and prints requests/s, latency percentiles, the time
 * until every event is normalised, and memory. Figures only: nothing here asserts.
 */
import http from 'node:http';
import pino from 'pino';
import { createWorkerContext } from '../src/bootstrap';
import { startHub, TestHub, waitFor } from '../test/helpers/hub';
import { sample, svixHeaders, whsec } from '../test/helpers/vendors';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function fire(url: string, bodies: (i: number) => { body: string; headers: Record<string, string> }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        const i = next++;
        const { body, headers } = bodies(i);
        const t0 = process.hrtime.bigint();
        const status = await new Promise<number>((resolve) => {
          const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(0));
          req.end(body);
        });
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (status !== 202) failures++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
  return { rps: (TOTAL / seconds).toFixed(0), p50: pct(50), p99: pct(99), failures, seconds: seconds.toFixed(2) };
}

/** Starts queue workers beside the api-only hub and times how long they take to normalise everything. */
async function drained(hub: TestHub, sourceId: string): Promise<number> {
  const t0 = Date.now();
  const workers = await createWorkerContext({ ...hub.config, role: 'worker' }, pino({ level: 'warn' }));
  await waitFor(
    async () => {
      const [row] = await hub.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM inbound_event WHERE source_id = $1 AND status = 'received'`,
        [sourceId],
      );
      return row.n === 0;
    },
    { timeoutMs: 300_000, intervalMs: 100, what: 'normalisation to drain' },
  );
  const seconds = (Date.now() - t0) / 1000;
  await workers.close();
  return seconds;
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main() {
  // Ingest is measured on an api-only hub (HUB_ROLE=api), as it runs when api and worker are split; then a worker
  // context drains the queue, which measures normalisation (mapping, validation, routing) on its own.
  const hub = await startHub({ LOG_LEVEL: 'warn', HUB_ROLE: 'api' });
  try {
    const rssBefore = process.memoryUsage().rss;
    console.log(
      `switchboard ingest bench: ${TOTAL} requests per scenario, concurrency ${CONCURRENCY}, api-only hub, then workers drain`,
    );

    const salesask = await hub.api().post('/api/sources').send({ name: 'bench', connector: 'salesask' });
    const template = JSON.parse(sample('salesask', 'recording.processed.json').toString());
    const plain = await fire(`${hub.baseUrl}/hooks/${salesask.body.id}`, (i) => ({
      body: JSON.stringify({ ...template, data: { ...template.data, id: `rec_${i}` } }),
      headers: { 'content-type': 'application/json' },
    }));
    const plainDrain = await drained(hub, salesask.body.id);
    console.log(
      `url-token (Sales Ask):          ${plain.rps} req/s  p50 ${plain.p50} ms  p99 ${plain.p99} ms  non-202 ${plain.failures}  then normalised at ${(TOTAL / plainDrain).toFixed(0)} events/s`,
    );

    const secret = whsec();
    const askelephant = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bench', connector: 'askelephant', secrets: [secret] });
    const engagement = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
    const signed = Array.from({ length: TOTAL }, (_, i) => {
      const body = JSON.stringify({ ...engagement, id: `evt_bench_${i}` });
      return { body, headers: svixHeaders(secret, body) };
    });
    const svix = await fire(`${hub.baseUrl}/hooks/${askelephant.body.id}`, (i) => signed[i]);
    const svixDrain = await drained(hub, askelephant.body.id);
    console.log(
      `standard-webhooks (AskElephant): ${svix.rps} req/s  p50 ${svix.p50} ms  p99 ${svix.p99} ms  non-202 ${svix.failures}  then normalised at ${(TOTAL / svixDrain).toFixed(0)} events/s`,
    );
    const mem = process.memoryUsage();
    console.log(`memory: rss ${mib(rssBefore)} → ${mib(mem.rss)} MiB, heap used ${mib(mem.heapUsed)} MiB`);
  } finally {
    await hub.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
