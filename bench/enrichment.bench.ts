/*
 * Ingest throughput with enrichment on and off (issue 12): `npx ts-node --transpile-only bench/enrichment.bench.ts`.
 * One hub with its workers running (HUB_ROLE=all), so enrich jobs fetch from a fake Sales Ask API on loopback (with
 * BENCH_API_LATENCY_MS of latency per answer) while webhooks keep arriving. Two Sales Ask sources: one without an
 * API key (enrichment off: commit, 202, normalize) and one with (commit, 202, enrich, normalize). Rounds alternate
 * off/on after a warm-up, so drift hits both alike. The fetch is off the ack path, so the two ingest figures should
 * stay within a few per cent; the drain figure shows the fetch's own cost. Figures only: nothing here asserts.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { SalesAskApiFake } from '../test/fakes/salesask-api.fake';
import { startHub, TestHub, waitFor } from '../test/helpers/hub';
import { sample } from '../test/helpers/vendors';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LATENCY_MS = Number(process.env.BENCH_API_LATENCY_MS ?? 50);

interface Round {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

async function fire(url: string, body: (i: number) => string): Promise<Round> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL) {
        const payload = body(next++);
        const t0 = process.hrtime.bigint();
        const status = await new Promise<number>((resolve) => {
          const req = http.request(
            url,
            { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', () => resolve(0));
          req.end(payload);
        });
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (status !== 202) failures++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { rps: TOTAL / seconds, p50: pct(50), p99: pct(99), failures };
}

/** Seconds from now until no event of the source waits for enrichment or normalisation. */
async function drain(hub: TestHub, sourceId: string): Promise<number> {
  const t0 = Date.now();
  await waitFor(
    async () => {
      const [row] = await hub.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM inbound_event WHERE source_id = $1 AND status = 'received'`,
        [sourceId],
      );
      return row.n === 0;
    },
    { timeoutMs: 600_000, intervalMs: 100, what: 'the pipeline to drain' },
  );
  return (Date.now() - t0) / 1000;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const api = await new SalesAskApiFake(`sa_${randomBytes(12).toString('hex')}`).start();
  api.latencyMs = LATENCY_MS;
  api.serveAny = (id) => ({
    id,
    status: 'processed',
    startedAt: '2026-03-09T15:00:00.000Z',
    duration: 754,
    participants: [{ name: 'Rita Rep', role: 'rep' }],
    transcript: Array.from({ length: 40 }, (_, i) => ({
      speaker: i % 2 ? 'John Doe' : 'Rita Rep',
      text: `Line ${i} of the call.`,
      start: i * 5,
    })),
  });
  const hub = await startHub({
    LOG_LEVEL: 'warn',
    HUB_ENRICHMENT_CONCURRENCY: '64',
    HUB_ENRICHMENT_SOURCE_CONCURRENCY: '16',
  });
  try {
    const off = await hub.api().post('/api/sources').send({ name: 'bench off', connector: 'salesask' }).expect(201);
    const on = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'bench on', connector: 'salesask', enrichment: { apiKey: api.apiKey, baseUrl: api.url } })
      .expect(201);
    const template = JSON.parse(sample('salesask', 'recording.processed.json').toString());
    let serial = 0;
    const body = () => JSON.stringify({ ...template, data: { ...template.data, id: `rec_bench_${serial++}` } });
    console.log(
      `switchboard enrichment bench: ${TOTAL} Sales Ask webhooks per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds ` +
        `each way after a warm-up, fake API latency ${LATENCY_MS} ms, workers running`,
    );

    await fire(`${hub.baseUrl}/hooks/${off.body.id}`, body);
    await fire(`${hub.baseUrl}/hooks/${on.body.id}`, body);
    await drain(hub, off.body.id);
    await drain(hub, on.body.id);

    const results = { off: [] as Round[], on: [] as Round[] };
    const drains = { off: [] as number[], on: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, source] of [
        ['off', off.body.id],
        ['on', on.body.id],
      ] as const) {
        const result = await fire(`${hub.baseUrl}/hooks/${source}`, body);
        drains[name].push(await drain(hub, source));
        results[name].push(result);
        console.log(
          `  round ${round + 1} enrichment ${name.padEnd(3)}: ${result.rps.toFixed(0)} req/s  p50 ${result.p50.toFixed(2)} ms  ` +
            `p99 ${result.p99.toFixed(2)} ms  non-202 ${result.failures}  drained ${drains[name].at(-1)!.toFixed(1)} s later`,
        );
      }
    }
    const offRps = median(results.off.map((r) => r.rps));
    const onRps = median(results.on.map((r) => r.rps));
    const change = ((onRps - offRps) / offRps) * 100;
    console.log(
      `ingest with enrichment off: ${offRps.toFixed(0)} req/s, on: ${onRps.toFixed(0)} req/s ` +
        `(${change >= 0 ? '+' : ''}${change.toFixed(1)} %; issue 12 asks for within 5 %)`,
    );
    const [{ fetched }] = await hub.sql<{ fetched: number }>(
      `SELECT count(*)::int AS fetched FROM inbound_event WHERE source_id = $1 AND enrichment_status = 'enriched'`,
      [on.body.id],
    );
    console.log(`enriched events: ${fetched} (fake API answered ${api.requests.length} requests)`);
  } finally {
    await hub.close();
    await api.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
