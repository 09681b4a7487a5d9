/*
 * What one event costs at a rate the hub keeps up with (issue 11):
 * `npx ts-node --transpile-only bench/steady.bench.ts` (after `npm run build`). One HUB_ROLE=all process takes an
 * open loop of signed AskElephant webhooks at BENCH_RATE/s (default 200) for BENCH_SECONDS (default 20) into one
 * webhook destination, a loopback sink. After a 5 s warm-up and its drain, it divides the CPU of the measured run,
 * to its last delivery, by the events delivered: the hub's threads one by one (main thread, mapping threads, the
 * rest: V8 and libuv helpers), Postgres (every backend), and Redis. It also prints the commits and the
 * inbound_event inserts and updates per event, from Postgres' statistics (each reading waits 11 s for them).
 * Unlike a saturating load, nothing here waits in a backlog, so these are the costs of the path every event takes
 * when the hub is not behind. BENCH_MAIN=<path to another build's dist/src/main.js>: the same run with that build;
 * BENCH_CPU_PROF=1 profiles every hub thread (bench/results/profiles/steady/, for bench/profile-summary.ts).
 * Figures only.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { openLoop } from './load';
import {
  askElephantToSink,
  countingSink,
  cpuMs,
  HubProcesses,
  hubOptionsFromEnv,
  postgresCpuMs,
  sleep,
} from './processes';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

/**
 * CPU ms of a process's threads, by kind: its main thread (tid = pid), the threads started since `boot` was taken
 * (the mapping threads: piscina starts them with the first task, after /health answers), and the rest (V8's and
 * libuv's helpers). Node gives its threads no names to tell them apart by.
 */
function threadCpuMs(pid: number, boot: Set<string>): { main: number; mapping: number; other: number } {
  const out = { main: 0, mapping: 0, other: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      if (Number(tid) === pid) out.main += ms;
      else if (!boot.has(tid)) out.mapping += ms;
      else out.other += ms;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** The hub database's commits, and its events' row versions written: inserts and updates of inbound_event. */
async function writes(db: Client): Promise<{ commits: number; inserted: number; updated: number }> {
  // An idle backend reports what it counted since its last report within 10 s (Postgres 15's PGSTAT_IDLE_INTERVAL).
  await sleep(11_000);
  const { rows } = await db.query<{ commits: number; inserted: number; updated: number }>(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::int AS commits,
            n_tup_ins::int AS inserted, n_tup_upd::int AS updated
     FROM pg_stat_user_tables WHERE relname = 'inbound_event'`,
  );
  return rows[0];
}

function redisPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'redis-server'], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

async function main() {
  const sink = await countingSink();
  const hub = await HubProcesses.create({}, hubOptionsFromEnv('steady'));
  try {
    const proc = hub.spawn('all');
    await hub.healthy();
    const boot = new Set(readdirSync(`/proc/${proc.pid}/task`));
    const next = await askElephantToSink(hub, sink.url, `evt_steady_${Date.now()}_`);
    const drained = async (acked: number) => {
      while (sink.received() < acked) await sleep(20);
    };
    // Warm-up (JIT, pools, the mapping threads), then the measured run from an empty pipeline to an empty pipeline.
    const warm = await openLoop(hub.base, RATE, 5, () => next());
    await drained(warm.acked);
    const pid = proc.pid!;
    const redis = redisPids();
    const db = new Client({ connectionString: hub.env.DATABASE_URL });
    await db.connect();
    const writes0 = await writes(db);
    const at0 = { threads: threadCpuMs(pid, boot), pg: postgresCpuMs(), redis: cpuMs(redis) };
    const delivered0 = sink.received();
    const result = await openLoop(hub.base, RATE, SECONDS, () => next());
    const lagStart = Date.now();
    await drained(warm.acked + result.acked);
    const lagMs = Date.now() - lagStart;
    const events = sink.received() - delivered0;
    const threads = threadCpuMs(pid, boot);
    const pg = postgresCpuMs();
    const redisMs = cpuMs(redis);
    const writes1 = await writes(db);
    await db.end();
    const per = (ms: number) => (ms / Math.max(1, events)).toFixed(2);
    console.log(
      `offered ${RATE}/s for ${SECONDS} s: acked ${result.acked} (errors ${result.errors}), ` +
        `${events} delivered, the last ${lagMs} ms after the load ended`,
    );
    console.log(
      `CPU ms per delivered event: hub main thread ${per(threads.main - at0.threads.main)}, mapping threads ` +
        `${per(threads.mapping - at0.threads.mapping)}, other hub threads ${per(threads.other - at0.threads.other)}; ` +
        `Postgres ${per(pg - at0.pg)}; Redis ${per(redisMs - at0.redis)}`,
    );
    // An event stored with its output is inserted `normalized`; one normalised after its ack is updated once more.
    const acked = result.acked;
    console.log(
      `per acked event: ${((writes1.commits - writes0.commits) / acked).toFixed(2)} commits (the measuring ` +
        `statements included), inbound_event ${((writes1.inserted - writes0.inserted) / acked).toFixed(2)} inserts ` +
        `and ${((writes1.updated - writes0.updated) / acked).toFixed(2)} updates`,
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
