/*
 * Ingest throughput with enrichment on and off (issue 12): `npx ts-node --transpile-only bench/enrichment.bench.ts`.
 * Three processes, so none measures another's work: the hub, compiled, HUB_ROLE=all (ingest and the workers in one
 * process, the case where the fetch could cost ingest most); a fake Sales Ask API (bench/vendor-api.ts) that
 * answers after BENCH_API_LATENCY_MS; and this one, the closed-loop load. Two Sales Ask sources: one without an API
 * key (enrichment off: commit, 202, normalize) and one with (commit, 202, enrich, normalize). Rounds alternate
 * off/on after a warm-up, so drift hits both alike, and each round waits for its events to drain. The fetch is off
 * the ack path, so the two ingest figures should stay within a few per cent; the drain time and the hub's CPU per
 * event show the fetch's own cost. Then ms per evaluation of each enriched mapping for a 40- and a 1 000-segment
 * transcript, in this process: a long call's transcript is the largest thing a mapping reads. Figures only: nothing
 * here asserts. BENCH_MAPPING_ONLY=1 prints only the mapping figures.
 */
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { Client } from 'pg';
import { sample } from '../test/helpers/vendors';
import { closedLoop, percentile } from './load';
import { child, compileHub, cpuMs, HubProcesses, ROOT, sleep } from './processes';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 1500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LATENCY_MS = Number(process.env.BENCH_API_LATENCY_MS ?? 50);
const WARM_UP_REQUESTS = Math.ceil(TOTAL / 4);

interface Round {
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

/** One round: TOTAL webhooks (or `requests`) to one source over CONCURRENCY connections (`closedLoop`). */
async function fire(base: string, sourceId: string, body: () => string, requests = TOTAL): Promise<Round> {
  const load = await closedLoop(base, CONCURRENCY, { requests }, (i) => ({
    path: `/hooks/${sourceId}`,
    body: body(),
    headers: { 'content-type': 'application/json' },
    key: String(i),
  }));
  const latencies = load.latencies.sort((x, y) => x - y);
  return {
    rps: load.acked / load.seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: load.errors,
  };
}

/** Seconds from now until no event of the source waits for enrichment or normalisation. */
async function drain(db: Client, sourceId: string): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM inbound_event WHERE source_id = $1 AND status = 'received'`,
      [sourceId],
    );
    if (rows[0].n === 0) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > 600_000) throw new Error('the pipeline did not drain within 10 minutes');
    await sleep(100);
  }
}

/** The hub, HUB_ROLE=all, and a Postgres connection to its database for the drain checks. */
async function startHub(): Promise<{ hub: HubProcesses; proc: ChildProcess; db: Client }> {
  const hub = await HubProcesses.create(
    { HUB_ENRICHMENT_CONCURRENCY: '32', HUB_ENRICHMENT_SOURCE_CONCURRENCY: '16' },
    // BENCH_CPU_PROF=1: profiles of the hub's main thread and mapping threads, for bench/profile-summary.ts.
    {
      execArgv: process.env.BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles/enrichment')}`]
        : [],
    },
  );
  const proc = hub.spawn('all');
  await hub.healthy();
  const db = new Client({ connectionString: hub.env.DATABASE_URL });
  await db.connect();
  return { hub, proc, db };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** ms per evaluation of the two enriched mappings with an n-segment transcript bound as $enrichment. */
async function mappingMs(segments: number): Promise<Record<string, number>> {
  const lines = Array.from({ length: segments }, (_, i) => ({ speaker: i % 2 ? 'John Doe' : 'Rita Rep', i }));
  const cases = {
    salesask: {
      file: 'salesask/recording.processed',
      sample: sample('salesask', 'recording.processed.json'),
      enrichment: {
        recording: {
          id: 'rec_1',
          startedAt: '2026-03-09T15:00:00.000Z',
          duration: 754,
          transcript: lines.map(({ speaker, i }) => ({ speaker, text: `Line ${i} of the call.`, start: i * 5 })),
        },
      },
    },
    askelephant: {
      file: 'askelephant/v1.engagement.transcript_timeline.completed',
      sample: sample('askelephant', 'v1.engagement.transcript_timeline.completed.json'),
      enrichment: {
        transcriptTimeline: {
          segments: lines.map(({ speaker, i }) => ({
            speaker: { name: speaker },
            text: `Line ${i} of the call.`,
            start_time: i * 5,
            sentiment: 'neutral',
          })),
        },
      },
    },
  };
  const out: Record<string, number> = {};
  for (const [connector, c] of Object.entries(cases)) {
    const expression = jsonata(readFileSync(join(ROOT, 'mappings', `${c.file}.jsonata`), 'utf8'));
    const input = JSON.parse(c.sample.toString()) as unknown;
    const bindings = {
      connector,
      sourceId: 'src_bench',
      receivedAt: new Date().toISOString(),
      enrichment: c.enrichment,
    };
    const warmUntil = performance.now() + 500;
    while (performance.now() < warmUntil) await expression.evaluate(input, bindings);
    let runs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1000 || runs < 5) {
      await expression.evaluate(input, bindings);
      runs++;
    }
    out[connector] = (performance.now() - t0) / runs;
  }
  return out;
}

async function main() {
  if (!process.env.BENCH_MAPPING_ONLY) await ingest();
  // With the hub stopped: this process alone.
  for (const segments of [40, 1000]) {
    const ms = await mappingMs(segments);
    console.log(
      `mapping with a ${segments}-segment transcript: ` +
        Object.entries(ms)
          .map(([connector, value]) => `${connector} ${value.toFixed(1)} ms`)
          .join(', '),
    );
  }
}

async function ingest() {
  compileHub();
  // The fake API makes up its key and reports it with its port.
  const apiKey = randomBytes(12).toString('hex');
  const api = await child(
    join(ROOT, 'bench/vendor-api.ts'),
    { BENCH_API_LATENCY_MS: String(LATENCY_MS), BENCH_API_KEY: apiKey },
    ['-r', 'ts-node/register/transpile-only'],
  );
  const { hub, proc, db } = await startHub();
  try {
    const off = await hub.api('POST', '/api/sources', { name: 'bench off', connector: 'salesask' });
    const on = await hub.api('POST', '/api/sources', {
      name: 'bench on',
      connector: 'salesask',
      enrichment: { apiKey, baseUrl: `http://127.0.0.1:${api.port}` },
    });
    const template = JSON.parse(sample('salesask', 'recording.processed.json').toString());
    let serial = 0;
    const body = () => JSON.stringify({ ...template, data: { ...template.data, id: `rec_bench_${serial++}` } });
    console.log(
      `switchboard enrichment bench: ${TOTAL} Sales Ask webhooks per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds ` +
        `each way after a warm-up, fake API latency ${LATENCY_MS} ms; hub HUB_ROLE=all in its own process, ` +
        `enrichment concurrency 32, 16 per source`,
    );

    // The warm-up: a quarter of a round each way is enough for the JIT and the pools, and its drain is a quarter.
    await fire(hub.base, off.id, body, WARM_UP_REQUESTS);
    await fire(hub.base, on.id, body, WARM_UP_REQUESTS);
    await drain(db, off.id);
    await drain(db, on.id);

    const results = { off: [] as Round[], on: [] as Round[] };
    const drains = { off: [] as number[], on: [] as number[] };
    const cpu = { off: [] as number[], on: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, source] of [
        ['off', off.id],
        ['on', on.id],
      ] as const) {
        const cpuBefore = cpuMs([proc.pid!]);
        const result = await fire(hub.base, source, body);
        drains[name].push(await drain(db, source));
        cpu[name].push((cpuMs([proc.pid!]) - cpuBefore) / TOTAL);
        results[name].push(result);
        console.log(
          `  round ${round + 1} enrichment ${name.padEnd(3)}: ${result.rps.toFixed(0)} req/s  p50 ${result.p50.toFixed(2)} ms  ` +
            `p99 ${result.p99.toFixed(2)} ms  not acked ${result.failures}  drained ${drains[name].at(-1)!.toFixed(1)} s later  ` +
            `hub CPU ${cpu[name].at(-1)!.toFixed(2)} ms/event`,
        );
      }
    }
    const offRps = median(results.off.map((r) => r.rps));
    const onRps = median(results.on.map((r) => r.rps));
    const change = ((onRps - offRps) / offRps) * 100;
    console.log(
      `ingest with enrichment off: ${offRps.toFixed(0)} req/s, on: ${onRps.toFixed(0)} req/s ` +
        `(${change >= 0 ? '+' : ''}${change.toFixed(1)} %; issue 12 asks for within 5 %); hub CPU per event, ` +
        `ingest to normalised: off ${median(cpu.off).toFixed(2)} ms, on ${median(cpu.on).toFixed(2)} ms`,
    );
    const { rows } = await db.query<{ fetched: number }>(
      `SELECT count(*)::int AS fetched FROM inbound_event WHERE source_id = $1 AND enrichment_status = 'enriched'`,
      [on.id],
    );
    console.log(`enriched events: ${rows[0].fetched} of ${TOTAL * ROUNDS + WARM_UP_REQUESTS}`);
  } finally {
    await db.end();
    await hub.stop();
    api.proc.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
