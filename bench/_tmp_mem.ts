import { closedLoop } from './load';
import { askElephantToSink, countingSink, HubProcesses, rssMib } from './processes';

async function heap(hub: HubProcesses): Promise<string> {
  const res = await fetch(`${hub.base}/metrics`, { headers: { authorization: `Bearer ${(hub as any).apiKey}` } });
  const text = await res.text();
  const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN) / 1048576;
  return ['new_space', 'old_space', 'code_space', 'large_object_space'].map((s) => `${s.replace('_space','')} ${get(new RegExp(`nodejs_heap_space_size_total_bytes\\{space="${s}"\\} (\\d+)`)).toFixed(0)}`).join(' ')
    + ` ext ${get(/nodejs_external_memory_bytes (\d+)/).toFixed(0)}`;
}

async function main() {
  const sink = await countingSink();
  const hub = await HubProcesses.create();
  try {
    const proc = hub.spawn('all');
    await hub.healthy();
    const next = await askElephantToSink(hub, sink.url, 'evt_memory_');
    const t0 = Date.now();
    const timer = setInterval(async () => {
      const at = Math.round((Date.now() - t0) / 1000);
      console.log(`  ${String(at).padStart(3)} s  RSS ${rssMib([proc.pid!]).toFixed(1)} MiB  delivered ${sink.received()}  main heap: ${await heap(hub)}`);
    }, 10_000);
    const load = await closedLoop(hub.base, Number(process.env.BENCH_CONNECTIONS ?? 8), Number(process.env.BENCH_SECONDS ?? 70), next);
    clearInterval(timer);
    console.log('acked', load.acked);
  } finally {
    sink.close();
    await hub.stop();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
