/*
 * Memory over one steady run (issue 11's "flat" target): `npx ts-node --transpile-only bench/memory.bench.ts` (after
 * `npm run build`). One compiled hub (HUB_ROLE=all) takes BENCH_SECONDS (70) of closed-loop AskElephant webhooks
 * over BENCH_CONNECTIONS (8) connections, delivered to a loopback sink; its RSS is printed every 10 s, with the
 * ratio of the 60 s sample to the 10 s one, the peak, and how far delivery kept up. Figures only.
 */
import { closedLoop } from './load';
import { askElephantToSink, countingSink, HubProcesses, rssMib, sleep } from './processes';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 70);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

/** The main thread's V8 heap and off-heap memory, from the hub's own /metrics (prom-client's default metrics). */
async function heapOfMainThread(base: string): Promise<string> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const mib = (name: string, label = '') => {
      const line = text.split('\n').find((l) => l.startsWith(`switchboard_${name}${label}`));
      return line ? (Number(line.split(' ').pop()) / 2 ** 20).toFixed(0) : '?';
    };
    return (
      `main thread: heap ${mib('nodejs_heap_size_used_bytes')}/${mib('nodejs_heap_size_total_bytes')} MiB, ` +
      `external ${mib('nodejs_external_memory_bytes')} MiB`
    );
  } catch {
    return '';
  }
}

async function main() {
  const sink = await countingSink();
  const hub = await HubProcesses.create();
  try {
    const proc = hub.spawn('all');
    await hub.healthy();
    const next = await askElephantToSink(hub, sink.url, 'evt_memory_');
    const samples: { at: number; rss: number }[] = [];
    const t0 = Date.now();
    const timer = setInterval(() => {
      const at = Math.round((Date.now() - t0) / 1000);
      samples.push({ at, rss: rssMib([proc.pid!]) });
      void heapOfMainThread(hub.base).then((heap) =>
        console.log(
          `  ${String(at).padStart(3)} s  RSS ${rssMib([proc.pid!]).toFixed(1)} MiB  delivered ${sink.received()}  ${heap}`,
        ),
      );
    }, 10_000);
    const load = await closedLoop(hub.base, CONNECTIONS, SECONDS, next);
    clearInterval(timer);
    const deliveredByEnd = sink.received();
    const drainStart = Date.now();
    while (sink.received() < load.acked && Date.now() - drainStart < 120_000) await sleep(50);
    const at = (s: number) => samples.find((sampled) => sampled.at >= s)?.rss;
    const [ten, sixty] = [at(10), at(60)];
    const peak = Math.max(...samples.map((sampled) => sampled.rss));
    console.log(
      `acked ${load.acked} (${(load.acked / load.seconds).toFixed(0)}/s), delivered ${deliveredByEnd} by the end of ` +
        `the load, all ${load.acked} ${((Date.now() - drainStart) / 1000).toFixed(1)} s later`,
    );
    console.log(
      `RSS 10 s ${ten?.toFixed(1)} MiB, 60 s ${sixty?.toFixed(1)} MiB: ` +
        `60 s ÷ 10 s ${ten && sixty ? (sixty / ten).toFixed(2) : '-'}× (target ≤ 1.10×); peak ${peak.toFixed(1)} MiB`,
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
