/*
 * The pipeline alone (issue 11): `npx ts-node --transpile-only bench/drain.bench.ts` (after `npm run build`).
 * An api-only hub stores BENCH_SECONDS of closed-loop AskElephant webhooks (32 connections), so its backlog waits in
 * Postgres and the normalize queue; then one HUB_ROLE=worker process starts and drains it to a loopback sink (one
 * webhook destination), with nothing else arriving. It prints the worker's delivered/s and its CPU per event
 * (all its threads, boot excluded), so the cost of normalise + deliver is seen without ingest beside it.
 * HUB_* variables pass through to both processes (e.g. HUB_DESTINATION_CONCURRENCY). Figures only.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { deleteQueueKeys, dropDatabase } from '../test/helpers/hub';
import { sample, svixHeaders, whsec } from '../test/helpers/vendors';
import { closedLoop } from './load';
import { cpuMs, freePort, ROOT, sleep } from './processes';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const API_KEY = `bench-${randomBytes(16).toString('hex')}`;

async function main() {
  let received = 0;
  const sink = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const env = {
    DATABASE_URL: `${SERVER_URL}/sbbench_${suffix}`,
    REDIS_URL,
    HUB_QUEUE_PREFIX: `sbbench_${suffix}`,
    HUB_API_KEY: API_KEY,
    HUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HUB_OUTBOUND_ALLOW: '127.0.0.0/8',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  const processes: ChildProcess[] = [];
  const spawnHub = (role: string) => {
    const proc = fork(join(ROOT, 'dist/src/main.js'), [], {
      env: { ...process.env, ...env, HUB_ROLE: role },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    processes.push(proc);
    return proc;
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    spawnHub('api');
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error('hub did not start within 60 s');
      await sleep(200);
    }
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: string }>;
    };
    const secret = whsec();
    const source = await post('/api/sources', { name: 'bench', connector: 'askelephant', secrets: [secret] });
    await post('/api/destinations', {
      name: 'sink',
      type: 'webhook',
      url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/d`,
      eventTypes: ['activity.*'],
    });
    const engagement = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
    let serial = 0;
    const load = await closedLoop(base, 32, SECONDS, () => {
      const key = `evt_drain_${serial++}`;
      const body = JSON.stringify({ ...engagement, id: key });
      return { path: `/hooks/${source.id}`, body, headers: svixHeaders(secret, body), key };
    });
    console.log(
      `stored ${load.acked} events with an api-only process (${(load.acked / load.seconds).toFixed(0)} acks/s); ` +
        `starting one worker`,
    );
    const worker = spawnHub('worker');
    // Boot (Nest context, Postgres pool, mapping threads) is not the pipeline's cost: count from the first delivery.
    while (received === 0) await sleep(10);
    const t0 = Date.now();
    const cpu0 = cpuMs([worker.pid!]);
    const first = received;
    while (received < load.acked) {
      if (Date.now() - t0 > 600_000) throw new Error('the worker did not drain within 10 minutes');
      await sleep(20);
    }
    const seconds = (Date.now() - t0) / 1000;
    const events = received - first;
    console.log(
      `one worker alone: ${(events / seconds).toFixed(0)} delivered/s; worker CPU ${((cpuMs([worker.pid!]) - cpu0) / events).toFixed(2)} ms per event ` +
        `(all its threads; ${events} events in ${seconds.toFixed(1)} s)`,
    );
  } finally {
    await Promise.all(
      processes.map(
        (proc) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null) return resolve();
            const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
            proc.once('exit', () => (clearTimeout(timer), resolve()));
            proc.kill('SIGTERM');
          }),
      ),
    );
    sink.close();
    await dropDatabase(`sbbench_${suffix}`);
    await deleteQueueKeys(env.HUB_QUEUE_PREFIX);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
