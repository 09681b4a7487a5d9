/*
 * `npm run bench`: the hub against a bare-Node ceiling, in one run, on this machine (issue 11). Figures only:
 * nothing here asserts. See bench/README.md for what each figure means and the latest results.
 *
 * One after the other, each against the same loopback sink (its own process):
 *   1. the ceiling (bench/ceiling.ts: verify, map, POST; nothing durable);
 *   2. the hub, HUB_ROLE=all, compiled (dist/), on the local Postgres and Redis, its own database and queue prefix;
 *   3. the hub split: HUB_ROLE=api plus one HUB_ROLE=worker process, then a second worker process beside it.
 * Phases for 1 and 2, after a warm-up at 500/s for 5 s: open loop at 500/s for 8 s (end to end p50/p99, backlog
 * 2 s after the load stops); closed loop with 64 connections for 5 s (acks/s, delivered/s during the load and
 * until the last delivery); Sales Ask (url-token) closed loop for 2 s; then 3 destinations per event at 500/s. For
 * 3: the closed loop with 1, then 2 workers. Then µs per JSONata evaluation of every shipped mapping, in this
 * process. RSS of the server processes is read 10 s and 60 s into their first load, and again at their end; the
 * hub's run goes on at 500/s until 62 s before its 3-destination phase, so its RSS is read after 60 s.
 *
 * Env: BENCH_CPU_PROF=1 runs the hub processes under --cpu-prof (profiles in bench/results/profiles/<run>/, one per
 * process and thread; bench/profile-summary.ts reads them); otherwise BENCH_EXEC_ARGV (space-separated) is given
 * to the hub processes, e.g. `--perf-basic-prof` for `perf record`, which samples CPU time rather than wall time;
 * BENCH_DURABLE=1 also runs the durable floor, right after the ceiling: the ceiling's job plus the least Postgres
 * work the hub's promise needs (bench/ceiling.ts with CEILING_DATABASE), to tell the cost of durability itself from
 * the hub's own; BENCH_DURABLE_THREADS=n then runs it a second time, mapping on n piscina threads as the hub does
 * (ceiling-mapper.ts), one task per thread at a time unless BENCH_DURABLE_TASKS=m;
 * BENCH_NODE_RED=1 also runs Node-RED doing the ceiling's job with stock nodes (bench/node-red.ts; installed once
 * from the npm registry into the system's temporary directory), right after the ceiling, for the acks ratio;
 * BENCH_BASELINE=<git ref> also runs the hub as it was at that commit (built from `git archive` in a temporary
 * folder), right after the ceiling, for before/after ratios in the same run; BENCH_QUICK=1 halves the phase lengths; BENCH_ONLY=hub (or ceiling, durable, node-red, split; comma-separated) runs only those
 * parts and prints no table, for profiling.
 */
import { ChildProcess, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { Client } from 'pg';
import ts from 'typescript';
import { sample, salesAskRecording, svixHeaders, whsec } from '../test/helpers/vendors';
import { closedLoop, LoadResult, nowMs, openLoop, percentile, Request } from './load';
import { startNodeRed } from './node-red';
import {
  child,
  compileHub,
  cpuMs,
  HubProcesses,
  postgresCpuMs,
  ROOT,
  rssMib,
  scratchDatabase,
  sleep,
} from './processes';

const RESULTS = join(ROOT, 'bench', 'results');
const SCALE = process.env.BENCH_QUICK ? 0.5 : 1;
const ONLY = process.env.BENCH_ONLY?.split(',');
const runs = (part: string) => !ONLY || ONLY.includes(part);
const OPEN_RATE = 500;
const OPEN_SECONDS = 8 * SCALE;
const WARM_SECONDS = 5 * SCALE;
const CLOSED_SECONDS = 5 * SCALE;
const SALESASK_SECONDS = 2 * SCALE;
const CONNECTIONS = 64;
/** How long a phase waits for its backlog to reach the sink before it reports what is left and moves on. */
const DRAIN_CAP_SECONDS = 25;

const round = (n: number, digits = 0) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : null);

/** The hub at another commit, compiled in a temporary folder (no git state changes); returns its main.js. */
function buildBaseline(ref: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-baseline-'));
  execSync(
    `git archive ${JSON.stringify(ref)} src connectors mappings package.json tsconfig.json tsconfig.build.json | tar -x -C ${dir}`,
    { cwd: ROOT },
  );
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  compileHub(dir);
  return join(dir, 'dist/src/main.js');
}

/** Compiles the hub (npm run build) and the two helper processes, so every server runs as plain node. */
function build(): void {
  compileHub();
  mkdirSync(join(ROOT, 'dist', 'bench'), { recursive: true });
  for (const name of ['sink', 'ceiling', 'ceiling-mapper']) {
    const source = readFileSync(join(ROOT, 'bench', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(ROOT, 'dist', 'bench', `${name}.js`), outputText);
  }
}

class Sink {
  /** `${key}#${destination}` → first receipt (epoch ms). */
  readonly receipts = new Map<string, number>();
  duplicates = 0;
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
  ) {
    proc.on('message', (batch: [string, number, number][]) => {
      if (!Array.isArray(batch)) return;
      for (const [key, destination, at] of batch) {
        const id = `${key}#${destination}`;
        if (this.receipts.has(id)) this.duplicates++;
        else this.receipts.set(id, at);
      }
    });
  }

  static async start(): Promise<Sink> {
    const { proc, port } = await child(join(ROOT, 'dist/bench/sink.js'), {});
    return new Sink(proc, `http://127.0.0.1:${port}`);
  }

  /** Receipt times of these keys at these destinations; undefined where nothing arrived yet. */
  times(keys: Iterable<string>, destinations: number[]): (number | undefined)[] {
    const out: (number | undefined)[] = [];
    for (const key of keys) for (const d of destinations) out.push(this.receipts.get(`${key}#${d}`));
    return out;
  }
}

/** What the phases need of a server under test. */
interface Target {
  name: string;
  base: string;
  pids(): number[];
  svixPath(): string;
  salesaskPath(): string;
  /** Hub only: where acknowledged work waits, read from Postgres. */
  backlog?(): Promise<{ toNormalize: number; toDeliver: number }>;
  /** Makes every following event go to `n` destinations. */
  destinations(n: number): Promise<void>;
  stop(): Promise<void>;
}

async function startCeiling(sink: Sink, secret: string, database?: string, threads = 0): Promise<Target> {
  const { proc, port } = await child(join(ROOT, 'dist/bench/ceiling.js'), {
    CEILING_SECRET: secret,
    CEILING_SINK: sink.url,
    CEILING_ROOT: ROOT,
    ...(database ? { CEILING_DATABASE: database } : {}),
    ...(database && threads ? { CEILING_THREADS: String(threads) } : {}),
    ...(database && threads && process.env.BENCH_DURABLE_TASKS
      ? { CEILING_TASKS_PER_THREAD: process.env.BENCH_DURABLE_TASKS }
      : {}),
  });
  let count = 1;
  return {
    name: 'ceiling',
    base: `http://127.0.0.1:${port}`,
    pids: () => [proc.pid!],
    svixPath: () => `/hooks/askelephant/${count}`,
    salesaskPath: () => `/hooks/salesask/${count}`,
    destinations: async (n) => void (count = n),
    stop: async () => void proc.kill('SIGTERM'),
  };
}

/**
 * The ceiling plus the least durable work the hub promises (bench/ceiling.ts, CEILING_DATABASE), when BENCH_DURABLE=1;
 * `threads`: it maps on that many piscina threads.
 */
async function startDurableFloor(sink: Sink, secret: string, threads = 0): Promise<Target> {
  const database = await scratchDatabase('sbbench_floor');
  const ceiling = await startCeiling(sink, secret, database.url, threads).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  return {
    ...ceiling,
    name: threads ? `floor, ${threads} threads` : 'durable floor',
    async stop() {
      await ceiling.stop();
      await database.drop();
    },
  };
}

/** Node-RED running the ceiling's job with stock nodes (bench/node-red.ts), when BENCH_NODE_RED=1. */
async function startNodeRedTarget(sink: Sink, secret: string): Promise<Target> {
  const nodeRed = await startNodeRed(sink.url, secret);
  let count = 1;
  return {
    name: 'node-red',
    base: nodeRed.base,
    pids: () => [nodeRed.proc.pid!],
    svixPath: () => `/hooks/askelephant/${count}`,
    salesaskPath: () => `/hooks/salesask/${count}`,
    destinations: async (n) => void (count = n),
    stop: () => nodeRed.stop(),
  };
}

async function startHub(
  sink: Sink,
  secret: string,
  name: string,
  workers: number,
  main = join(ROOT, 'dist/src/main.js'),
): Promise<Target & { addWorker(): Promise<void> }> {
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles', name)}`]
    : (process.env.BENCH_EXEC_ARGV ?? '').split(' ').filter(Boolean);
  const hub = await HubProcesses.create({}, { main, execArgv: profile });
  hub.spawn(workers ? 'api' : 'all');
  await hub.healthy();
  for (let i = 0; i < workers; i++) hub.spawn('worker');
  const askelephant = await hub.api('POST', '/api/sources', {
    name: 'bench',
    connector: 'askelephant',
    secrets: [secret],
  });
  const salesask = await hub.api('POST', '/api/sources', { name: 'bench', connector: 'salesask' });
  let destinations = 0;
  const db = new Client({ connectionString: hub.env.DATABASE_URL });
  await db.connect();
  const target = {
    async backlog() {
      const { rows } = await db.query<{ toNormalize: number; toDeliver: number }>(
        `SELECT (SELECT count(*)::int FROM inbound_event WHERE status = 'received') AS "toNormalize",
                (SELECT count(*)::int FROM delivery WHERE status IN ('pending', 'retrying', 'sending')) AS "toDeliver"`,
      );
      return rows[0];
    },
    name,
    base: hub.base,
    pids: () => hub.pids(),
    svixPath: () => `/hooks/${askelephant.id}`,
    salesaskPath: () => `/hooks/${salesask.id}`,
    async destinations(n: number) {
      while (destinations < n) {
        destinations++;
        await hub.api('POST', '/api/destinations', {
          name: `sink ${destinations}`,
          type: 'webhook',
          url: `${sink.url}/d/${destinations}`,
          eventTypes: ['activity.*'],
        });
      }
    },
    async addWorker() {
      hub.spawn('worker');
      await sleep(3000); // boot: Nest context, Postgres pool, mapping threads
    },
    async stop() {
      await db.end();
      await hub.stop();
    },
  };
  await target.destinations(1);
  if (workers) await sleep(3000);
  return target;
}

/** AskElephant v1.engagement.updated (about 600 bytes), Svix-signed, one distinct event id each. */
function svixRequests(target: Target, secret: string, tag: string): (i: number) => Request {
  const engagement = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
  const path = target.svixPath();
  return (i) => {
    const key = `evt_${tag}_${i}`;
    const body = JSON.stringify({ ...engagement, id: key });
    return { path, body, headers: svixHeaders(secret, body), key };
  };
}

function salesaskRequests(target: Target, tag: string): (i: number) => Request {
  const path = target.salesaskPath();
  return (i) => {
    const recording = `rec_${tag}_${i}`;
    return {
      path,
      body: salesAskRecording(recording),
      headers: { 'content-type': 'application/json' },
      key: `activity:salesask:${recording}`,
    };
  };
}

interface PhaseFigures {
  phase: string;
  destinations: number;
  seconds: number;
  sent: number;
  acked: number;
  errors: number;
  acksPerSecond: number | null;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  /** Deliveries that reached the sink while the load ran, per second of load. */
  deliveredPerSecondDuringLoad: number | null;
  /** Every delivery of the phase over the time from its first request to its last delivery. */
  deliveredPerSecondSustained: number | null;
  e2eP50Ms: number | null;
  e2eP99Ms: number | null;
  /** Acked deliveries not at the sink 2 s after the load stopped. */
  backlogAfter2s: number;
  /** Acked deliveries not at the sink when the drain cap ran out. */
  undelivered: number;
  /** Server CPU time per acked event (all server processes). */
  cpuMsPerEvent: number | null;
  /** Hub only: rows waiting for normalisation and for delivery when the load stopped. */
  waitingAtEnd?: { toNormalize: number; toDeliver: number };
}

async function phase(
  name: string,
  target: Target,
  sink: Sink,
  destinationCount: number,
  run: () => Promise<LoadResult>,
): Promise<PhaseFigures> {
  const destinations = Array.from({ length: destinationCount }, (_, i) => i + 1);
  const cpu0 = cpuMs(target.pids());
  const load = await run();
  const waiting = await target.backlog?.();
  const expected = load.acked * destinationCount;
  const deliveredNow = () => sink.times(load.sentAt.keys(), destinations).filter((t) => t !== undefined).length;
  // Until 2 s after the load, or sooner once every delivery is in (the backlog at 2 s is then 0 whatever comes).
  const at2s = load.endedAt + 2000;
  while (nowMs() < at2s && deliveredNow() < expected) await sleep(Math.min(100, Math.max(0, at2s - nowMs())));
  const backlogAfter2s = sink.times(load.sentAt.keys(), destinations).filter((t) => t === undefined || t > at2s).length;
  const capAt = nowMs() + DRAIN_CAP_SECONDS * 1000;
  let delivered = 0;
  while (nowMs() < capAt) {
    delivered = deliveredNow();
    if (delivered >= expected) break;
    await sleep(100);
  }
  const cpu = cpuMs(target.pids()) - cpu0;
  const e2e: number[] = [];
  let last = load.startedAt;
  let during = 0;
  for (const [key, sentAt] of load.sentAt) {
    for (const d of destinations) {
      const at = sink.receipts.get(`${key}#${d}`);
      if (at === undefined) continue;
      e2e.push(at - sentAt);
      if (at > last) last = at;
      if (at <= load.endedAt) during++;
    }
  }
  e2e.sort((a, b) => a - b);
  const latencies = load.latencies.sort((a, b) => a - b);
  const figures: PhaseFigures = {
    phase: name,
    destinations: destinationCount,
    seconds: round(load.seconds, 2)!,
    sent: load.sent,
    acked: load.acked,
    errors: load.errors,
    acksPerSecond: round(load.acked / load.seconds),
    ackP50Ms: round(percentile(latencies, 50), 2),
    ackP99Ms: round(percentile(latencies, 99), 2),
    deliveredPerSecondDuringLoad: round(during / load.seconds),
    deliveredPerSecondSustained: round(e2e.length / ((last - load.startedAt) / 1000)),
    e2eP50Ms: round(percentile(e2e, 50), 2),
    e2eP99Ms: round(percentile(e2e, 99), 2),
    backlogAfter2s,
    undelivered: expected - e2e.length,
    cpuMsPerEvent: round(cpu / Math.max(1, load.acked), 2),
    ...(waiting ? { waitingAtEnd: waiting } : {}),
  };
  console.log(
    `  ${target.name.padEnd(12)} ${name.padEnd(22)} acked ${figures.acked} (${figures.acksPerSecond}/s, p50 ${figures.ackP50Ms} p99 ${figures.ackP99Ms} ms)` +
      `  delivered/s ${figures.deliveredPerSecondDuringLoad} during, ${figures.deliveredPerSecondSustained} sustained` +
      `  e2e p50 ${figures.e2eP50Ms} p99 ${figures.e2eP99Ms} ms  backlog@2s ${figures.backlogAfter2s}` +
      `  undelivered ${figures.undelivered}  cpu ${figures.cpuMsPerEvent} ms/event` +
      (waiting ? `  at load end: ${waiting.toNormalize} to normalise, ${waiting.toDeliver} to deliver` : ''),
  );
  return figures;
}

interface TargetRun {
  name: string;
  phases: Record<string, PhaseFigures>;
  rssMib10s?: number;
  /** Absent when the run ended sooner. */
  rssMib60s?: number;
  rssMibEnd?: number;
  rssEndAtSeconds?: number;
  /** Server CPU over the whole run ÷ deliveries that reached the sink. */
  cpuMsPerDelivered?: number | null;
  /** Postgres' CPU (every backend of the local server) over the whole run ÷ the same deliveries. */
  postgresMsPerDelivered?: number | null;
}

/**
 * The four phases of the ceiling and the single hub. RSS at 10 s and 60 s into the first load and at the end.
 * `toSixtySeconds` (the hubs): the memory target reads RSS after 60 s, so before the 3-destination phase the run goes
 * on at 500/s with one destination, the load it had at 10 s, until 62 s. That stretch is printed, left out of the
 * table and out of the whole-run rows.
 */
async function fullRun(target: Target, sink: Sink, secret: string, toSixtySeconds = false): Promise<TargetRun> {
  const run: TargetRun = { name: target.name, phases: {} };
  const tag = `${target.name.replace(/\W/g, '')}${randomBytes(3).toString('hex')}`;
  const started = nowMs();
  const cpu0 = cpuMs(target.pids());
  const pg0 = postgresCpuMs();
  const rssTimers = [
    setTimeout(() => (run.rssMib10s = round(rssMib(target.pids()), 1)!), 10_000),
    setTimeout(() => (run.rssMib60s = round(rssMib(target.pids()), 1)!), 60_000),
  ];
  // A server in service is warm: the JIT has compiled its hot paths and its pools are open. The warm-up's figures
  // are printed and left out of the table, except in the whole-run rows (CPU and Postgres time per delivered event).
  const warm = await phase('warm-up 500/s', target, sink, 1, () =>
    openLoop(target.base, OPEN_RATE, WARM_SECONDS, svixRequests(target, secret, `${tag}w`)),
  );
  run.phases.open500 = await phase('open 500/s', target, sink, 1, () =>
    openLoop(target.base, OPEN_RATE, OPEN_SECONDS, svixRequests(target, secret, `${tag}o`)),
  );
  run.phases.closed = await phase(`closed ${CONNECTIONS} conns`, target, sink, 1, () =>
    closedLoop(target.base, CONNECTIONS, CLOSED_SECONDS, svixRequests(target, secret, `${tag}c`)),
  );
  run.phases.salesask = await phase('Sales Ask url-token', target, sink, 1, () =>
    closedLoop(target.base, CONNECTIONS, SALESASK_SECONDS, salesaskRequests(target, `${tag}s`)),
  );
  const stretchSeconds = Math.ceil(62 - (nowMs() - started) / 1000);
  let stretch = { cpu: 0, postgres: 0 };
  if (toSixtySeconds && !process.env.BENCH_QUICK && stretchSeconds > 0) {
    const cpu = cpuMs(target.pids());
    const postgres = postgresCpuMs();
    await phase('open 500/s to 62 s', target, sink, 1, () =>
      openLoop(target.base, OPEN_RATE, stretchSeconds, svixRequests(target, secret, `${tag}m`)),
    );
    stretch = { cpu: cpuMs(target.pids()) - cpu, postgres: postgresCpuMs() - postgres };
  }
  await target.destinations(3);
  run.phases.open500x3 = await phase('open 500/s, 3 dests', target, sink, 3, () =>
    openLoop(target.base, OPEN_RATE, OPEN_SECONDS, svixRequests(target, secret, `${tag}t`)),
  );
  const delivered = [warm, ...Object.values(run.phases)].reduce(
    (sum, p) => sum + p.acked * p.destinations - p.undelivered,
    0,
  );
  run.cpuMsPerDelivered = round((cpuMs(target.pids()) - cpu0 - stretch.cpu) / Math.max(1, delivered), 2);
  // A backend that exits during the run takes its CPU time with it: never below 0.
  run.postgresMsPerDelivered = round(Math.max(0, postgresCpuMs() - pg0 - stretch.postgres) / Math.max(1, delivered), 2);
  rssTimers.forEach(clearTimeout);
  run.rssMibEnd = round(rssMib(target.pids()), 1)!;
  run.rssEndAtSeconds = round((nowMs() - started) / 1000)!;
  console.log(
    `  ${target.name.padEnd(12)} RSS ${run.rssMib10s} MiB at 10 s, ` +
      (run.rssMib60s !== undefined ? `${run.rssMib60s} MiB at 60 s, ` : '') +
      `${run.rssMibEnd} MiB at ${run.rssEndAtSeconds} s`,
  );
  return run;
}

/** µs per evaluation of every shipped mapping on each of its cases, in this process (no thread hop). */
async function jsonataMicros(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = join(ROOT, 'mappings');
  const files: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(join(dir, at), { withFileTypes: true })) {
      const rel = at ? `${at}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.jsonata')) files.push(rel);
    }
  };
  walk('');
  for (const file of files.sort()) {
    const connector = file.split('/')[0];
    let cases: { sample?: string; input?: unknown }[] = [];
    try {
      cases = JSON.parse(readFileSync(join(dir, file.replace(/\.jsonata$/, '.cases.json')), 'utf8'));
    } catch {
      continue;
    }
    const inputs = cases
      .map((c) => (c.sample ? JSON.parse(sample(connector, c.sample).toString()) : c.input))
      .filter((input) => input !== undefined);
    if (!inputs.length) continue;
    const expression = jsonata(readFileSync(join(dir, file), 'utf8'));
    const bindings = { connector, sourceId: 'src_bench', receivedAt: new Date().toISOString(), eventId: 'evt_bench' };
    const once = async () => {
      for (const input of inputs) await expression.evaluate(input, bindings).catch(() => undefined);
    };
    for (let i = 0; i < 20; i++) await once(); // warm up
    let runs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 50) {
      await once();
      runs++;
    }
    out[file.replace(/\.jsonata$/, '')] = round(((performance.now() - t0) * 1000) / (runs * inputs.length), 1)!;
  }
  return out;
}

function ratio(hub: number | null | undefined, ceiling: number | null | undefined): string {
  if (hub == null || ceiling == null || !ceiling) return '–';
  return `${(hub / ceiling).toFixed(2)}×`;
}

interface Row {
  figure: string;
  /** The cell of one run. */
  cell(run: TargetRun): string;
  /** The number compared with the ceiling's, if the row has a ratio. */
  value?(run: TargetRun): number | null | undefined;
  target?: string;
}

const e2e = (p: PhaseFigures) => `${p.e2eP50Ms} / ${p.e2eP99Ms}`;
const ROWS: Row[] = [
  {
    figure: `acks/s, closed loop, ${CONNECTIONS} conns`,
    cell: (r) => `${r.phases.closed.acksPerSecond}`,
    value: (r) => r.phases.closed.acksPerSecond,
    target: '≥ 0.5×',
  },
  {
    figure: 'delivered/s during that load',
    cell: (r) => `${r.phases.closed.deliveredPerSecondDuringLoad}`,
    value: (r) => r.phases.closed.deliveredPerSecondDuringLoad,
  },
  {
    figure: 'delivered/s sustained (to last delivery)',
    cell: (r) => `${r.phases.closed.deliveredPerSecondSustained}`,
    value: (r) => r.phases.closed.deliveredPerSecondSustained,
    target: '≥ 0.5×',
  },
  { figure: '  undelivered after the drain cap', cell: (r) => `${r.phases.closed.undelivered}`, target: '0' },
  {
    figure: 'server CPU ms per delivered event, whole run',
    cell: (r) => `${r.cpuMsPerDelivered}`,
    value: (r) => r.cpuMsPerDelivered,
  },
  {
    figure: '  Postgres CPU ms per delivered event',
    cell: (r) => `${r.postgresMsPerDelivered}`,
  },
  {
    figure: 'e2e p50 / p99 ms, open 500/s',
    cell: (r) => e2e(r.phases.open500),
    value: (r) => r.phases.open500.e2eP99Ms,
    target: 'p99 < 100 ms',
  },
  { figure: '  ack p99 ms at 500/s', cell: (r) => `${r.phases.open500.ackP99Ms}` },
  { figure: '  backlog 2 s after the load', cell: (r) => `${r.phases.open500.backlogAfter2s}`, target: '0' },
  {
    figure: 'e2e p50 / p99 ms, 500/s × 3 destinations',
    cell: (r) => e2e(r.phases.open500x3),
    value: (r) => r.phases.open500x3.e2eP99Ms,
  },
  {
    figure: '  delivered/s during, backlog 2 s after',
    cell: (r) => `${r.phases.open500x3.deliveredPerSecondDuringLoad}, ${r.phases.open500x3.backlogAfter2s}`,
  },
  {
    figure: 'Sales Ask url-token acks/s (closed)',
    cell: (r) => `${r.phases.salesask.acksPerSecond}`,
    value: (r) => r.phases.salesask.acksPerSecond,
  },
  {
    figure: 'RSS MiB at 10 s → 60 s → end (s)',
    cell: (r) => `${r.rssMib10s} → ${r.rssMib60s ?? '–'} → ${r.rssMibEnd} (${r.rssEndAtSeconds})`,
    target: '60 s ≤ 1.10 × 10 s',
  },
];

/** One table: a column per run, then each hub run's ratio to the ceiling. */
function table(ceiling: TargetRun, hubs: TargetRun[], split?: Record<string, PhaseFigures>): string {
  const header = [
    'figure',
    ...[ceiling, ...hubs].map((r) => r.name),
    ...hubs.map((r) => `${r.name} ÷ ceiling`),
    'target',
  ];
  const rows = ROWS.map((row) => [
    row.figure,
    ...[ceiling, ...hubs].map((r) => row.cell(r)),
    ...hubs.map((r) =>
      row.value
        ? ratio(row.value(r), row.value(ceiling))
        : row.figure.startsWith('RSS')
          ? r.rssMib60s !== undefined
            ? `60 s ÷ 10 s ${ratio(r.rssMib60s, r.rssMib10s)}`
            : `end ÷ 10 s ${ratio(r.rssMibEnd, r.rssMib10s)}`
          : '',
    ),
    row.target ?? '',
  ]);
  if (split) {
    const c = ceiling.phases.closed.deliveredPerSecondSustained;
    for (const [key, label] of [
      ['one', 'split api + 1 worker: acks/s, delivered/s sustained'],
      ['two', 'split api + 2 workers: acks/s, delivered/s sustained'],
    ] as const) {
      const p = split[key];
      rows.push([
        label,
        '',
        ...hubs.map((_, i) => (i === hubs.length - 1 ? `${p.acksPerSecond}, ${p.deliveredPerSecondSustained}` : '')),
        ...hubs.map((_, i) =>
          i === hubs.length - 1
            ? `${ratio(p.deliveredPerSecondSustained, c)}` +
              (key === 'two'
                ? ` (2 ÷ 1 workers ${ratio(p.deliveredPerSecondSustained, split.one.deliveredPerSecondSustained)})`
                : '')
            : '',
        ),
        '',
      ]);
    }
  }
  const nodeRed = hubs.find((r) => r.name === 'node-red');
  if (nodeRed) {
    // Issue 11: the hub's acks against Node-RED's, for the hub runs (the last column is this build).
    rows.push([
      `acks/s ÷ Node-RED's, closed loop`,
      '',
      ...hubs.map((r) =>
        r === nodeRed ? '' : ratio(r.phases.closed.acksPerSecond, nodeRed.phases.closed.acksPerSecond),
      ),
      ...hubs.map(() => ''),
      '≥ 1.5×',
    ]);
  }
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join(' | ')).join('\n');
}

async function main() {
  const began = Date.now();
  console.log('switchboard pipeline bench (issue 11): building…');
  build();
  const baseline = process.env.BENCH_BASELINE;
  const baselineMain = baseline ? buildBaseline(baseline) : undefined;
  const sink = await Sink.start();
  const secret = whsec();
  const stamp = new Date().toISOString();
  try {
    console.log(
      `ceiling, then hub (HUB_ROLE=all), then hub split; phases of ${OPEN_SECONDS}/${CLOSED_SECONDS}/${SALESASK_SECONDS} s`,
    );
    let ceiling: TargetRun | undefined;
    let hub: TargetRun | undefined;
    let before: TargetRun | undefined;
    let nodeRed: TargetRun | undefined;
    let split: Record<string, PhaseFigures> | undefined;
    if (runs('ceiling')) {
      const target = await startCeiling(sink, secret);
      ceiling = await fullRun(target, sink, secret).finally(() => target.stop());
    }
    const floors: TargetRun[] = [];
    if (process.env.BENCH_DURABLE && runs('durable')) {
      const threaded = Number(process.env.BENCH_DURABLE_THREADS ?? 0);
      for (const threads of threaded ? [0, threaded] : [0]) {
        const target = await startDurableFloor(sink, secret, threads);
        floors.push(await fullRun(target, sink, secret).finally(() => target.stop()));
      }
    }
    if (process.env.BENCH_NODE_RED && runs('node-red')) {
      const target = await startNodeRedTarget(sink, secret);
      nodeRed = await fullRun(target, sink, secret).finally(() => target.stop());
    }
    if (baselineMain && runs('hub')) {
      const target = await startHub(sink, secret, `hub@${baseline}`, 0, baselineMain);
      before = await fullRun(target, sink, secret, true).finally(() => target.stop());
    }
    if (runs('hub')) {
      const target = await startHub(sink, secret, 'hub', 0);
      hub = await fullRun(target, sink, secret, true).finally(() => target.stop());
    }
    if (runs('split')) {
      const target = await startHub(sink, secret, 'hub-split', 1);
      split = {};
      try {
        const tag = `split${randomBytes(3).toString('hex')}`;
        split.one = await phase('api + 1 worker', target, sink, 1, () =>
          closedLoop(target.base, CONNECTIONS, CLOSED_SECONDS, svixRequests(target, secret, `${tag}a`)),
        );
        await target.addWorker();
        split.two = await phase('api + 2 workers', target, sink, 1, () =>
          closedLoop(target.base, CONNECTIONS, CLOSED_SECONDS, svixRequests(target, secret, `${tag}b`)),
        );
      } finally {
        await target.stop();
      }
    }
    if (!ceiling || !hub) return;

    const micros = await jsonataMicros();
    const others = [...floors, ...(nodeRed ? [nodeRed] : []), ...(before ? [before] : [])];
    const summary = table(ceiling, [...others, hub], split);
    console.log(`\n${summary}\n`);
    const sorted = Object.entries(micros).sort((a, b) => b[1] - a[1]);
    console.log(
      `JSONata µs per evaluation (${sorted.length} shipped mappings, in-process): ` +
        sorted.map(([name, us]) => `${name} ${us}`).join(', '),
    );
    const file = join(RESULTS, `pipeline-${stamp.replace(/[:.]/g, '-')}.json`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(
      file,
      JSON.stringify(
        {
          at: stamp,
          cores: cpus().length,
          node: process.version,
          ceiling,
          ...(floors.length ? { durableFloors: floors } : {}),
          ...(nodeRed ? { nodeRed } : {}),
          ...(before ? { before } : {}),
          hub,
          split,
          jsonataMicros: micros,
          table: summary,
        },
        null,
        2,
      ),
    );
    console.log(`\n${file} (sink duplicates ${sink.duplicates}; ${((Date.now() - began) / 1000).toFixed(0)} s in all)`);
  } finally {
    sink.proc.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
