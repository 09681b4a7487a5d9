/*
 * The pipeline alone (issue 11): `npx ts-node --transpile-only bench/drain.bench.ts` (after `npm run build`).
 * An api-only hub stores BENCH_SECONDS of closed-loop AskElephant webhooks (32 connections), so its backlog waits in
 * Postgres and the normalize queue; then one HUB_ROLE=worker process starts and drains it to a loopback sink (one
 * webhook destination), with nothing else arriving. It prints the worker's delivered/s and its CPU per event
 * (all its threads, boot excluded), so the cost of normalise + deliver is seen without ingest beside it.
 * BENCH_CPU_PROF=1 profiles both processes (bench/results/profiles/drain/). HUB_* variables pass through to both processes (e.g. HUB_DESTINATION_CONCURRENCY). Figures only.
 */
import { closedLoop } from './load';
import {
  askElephantToSink,
  countingSink,
  cpuMs,
  HubProcesses,
  hubOptionsFromEnv,
  machineBusyMs,
  postgresCpuMs,
  sleep,
} from './processes';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);

async function main() {
  const sink = await countingSink();
  const hub = await HubProcesses.create({}, hubOptionsFromEnv('drain'));
  try {
    hub.spawn('api');
    await hub.healthy();
    const load = await closedLoop(hub.base, 32, SECONDS, await askElephantToSink(hub, sink.url, 'evt_drain_'));
    console.log(
      `stored ${load.acked} events with an api-only process (${(load.acked / load.seconds).toFixed(0)} acks/s); ` +
        `starting one worker`,
    );
    const worker = hub.spawn('worker');
    // Boot (Nest context, Postgres pool, mapping threads) is not the pipeline's cost: count from the first delivery.
    while (sink.received() === 0) await sleep(10);
    const t0 = Date.now();
    const cpu0 = cpuMs([worker.pid!]);
    const pg0 = postgresCpuMs();
    const machine0 = machineBusyMs();
    const first = sink.received();
    while (sink.received() < load.acked) {
      if (Date.now() - t0 > 600_000) throw new Error('the worker did not drain within 10 minutes');
      await sleep(20);
    }
    const seconds = (Date.now() - t0) / 1000;
    const events = sink.received() - first;
    console.log(
      `one worker alone: ${(events / seconds).toFixed(0)} delivered/s; worker CPU ${((cpuMs([worker.pid!]) - cpu0) / events).toFixed(2)} ms per event ` +
        `(all its threads; ${events} events in ${seconds.toFixed(1)} s)`,
    );
    console.log(
      `per event: Postgres ${((postgresCpuMs() - pg0) / events).toFixed(2)} ms CPU, ` +
        `the whole machine ${((machineBusyMs() - machine0) / events).toFixed(2)} ms CPU`,
    );
  } finally {
    sink.close();
    await hub.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
