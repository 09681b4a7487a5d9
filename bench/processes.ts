/* What the benches share to run servers as their own processes: a compiled hub, forked children, free ports. */
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net, { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ensureDatabase } from '../src/database/data-source';
import { deleteQueueKeys, dropDatabase } from '../test/helpers/hub';
import { sample, svixHeaders, whsec } from '../test/helpers/vendors';
import type { Request } from './load';

export const ROOT = join(__dirname, '..');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Compiles the hub (`tsc -p tsconfig.build.json`, as `npm run build` does for the server) into dist/.
 * BENCH_COMPILED=1 skips it: `npm run bench` sets it after the pipeline bench has compiled this tree.
 */
export function compileHub(cwd = ROOT): void {
  if (process.env.BENCH_COMPILED === '1' && cwd === ROOT) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd,
    stdio: 'inherit',
  });
}

/** Forks a server that reports `{port}` over IPC once it listens. */
export function child(
  file: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(file, [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (message: { port: number }) => resolve({ proc, port: message.port }));
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, ms) of processes, from /proc. */
export function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      return sum;
    }
  }, 0);
}

/** RSS (MiB) of processes, from /proc. */
export function rssMib(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return sum + (match ? Number(match[1]) / 1024 : 0);
    } catch {
      return sum;
    }
  }, 0);
}

/** CPU ms of every process the postgres user runs (the server and its backends; a backend gone since is missed). */
export function postgresCpuMs(): number {
  const pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const owned = pids.filter((pid) => {
    try {
      return statSync(`/proc/${pid}`).uid === postgresUid;
    } catch {
      return false;
    }
  });
  return cpuMs(owned.map(Number));
}
const postgresUid = (() => {
  try {
    return Number(/^postgres:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
})();

/** CPU ms the whole machine spent busy (every core, from /proc/stat). */
export function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/);
  return ((+user + +nice + +system + +irq + +softirq + +steal) * 1000) / 100;
}

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A new empty database on the bench's Postgres server, named `<prefix>_<pid>_<random>`; `drop` removes it. */
export async function scratchDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER_URL}/${name}`;
  await ensureDatabase(url);
  return { url, drop: () => dropDatabase(name) };
}

/**
 * HubProcesses' options from the bench's environment: BENCH_MAIN=<another build's dist/src/main.js> runs that build
 * (before/after); BENCH_CPU_PROF=1 profiles every hub thread into bench/results/profiles/<profiles>/, for
 * bench/profile-summary.ts.
 */
export function hubOptionsFromEnv(profiles: string): { main?: string; execArgv: string[] } {
  return {
    main: process.env.BENCH_MAIN,
    execArgv: process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles', profiles)}`]
      : [],
  };
}

/**
 * A compiled hub as real processes (one per role: `all`, or `api` plus workers) on the local Postgres and Redis, with
 * its own database and queue prefix, logging at warn: an info line per ingest and per attempt would measure
 * stdout; production ships them, the ceiling has none. HUB_* variables of the bench's environment pass through.
 */
export class HubProcesses {
  readonly apiKey = `bench-${randomBytes(16).toString('hex')}`;
  readonly processes: { proc: ChildProcess; role: string }[] = [];
  readonly env: Record<string, string>;
  readonly base: string;

  private constructor(
    port: number,
    extraEnv: Record<string, string>,
    private readonly options: { main?: string; execArgv?: string[] },
  ) {
    const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
    this.env = {
      DATABASE_URL: `${SERVER_URL}/sbbench_${suffix}`,
      REDIS_URL,
      HUB_QUEUE_PREFIX: `sbbench_${suffix}`,
      HUB_API_KEY: this.apiKey,
      HUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      HUB_OUTBOUND_ALLOW: '127.0.0.0/8',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...extraEnv,
    };
    this.base = `http://127.0.0.1:${port}`;
  }

  /** `main`: another build's main.js (a baseline); `execArgv`: e.g. --cpu-prof for every process. */
  static async create(
    extraEnv: Record<string, string> = {},
    options: { main?: string; execArgv?: string[] } = {},
  ): Promise<HubProcesses> {
    return new HubProcesses(await freePort(), extraEnv, options);
  }

  get database(): string {
    return new URL(this.env.DATABASE_URL).pathname.slice(1);
  }

  spawn(role: string): ChildProcess {
    const proc = fork(this.options.main ?? join(ROOT, 'dist/src/main.js'), [], {
      env: { ...process.env, ...this.env, HUB_ROLE: role },
      execArgv: this.options.execArgv ?? [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.processes.push({ proc, role });
    return proc;
  }

  async healthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = await fetch(`${this.base}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      if (Date.now() > deadline) throw new Error(`hub did not start within ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }

  async api(method: string, path: string, body?: unknown): Promise<{ id: string }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ id: string }>;
  }

  pids(): number[] {
    return this.processes.map(({ proc }) => proc.pid!);
  }

  /** SIGTERM (SIGKILL after 15 s) every process, then drops the database and the queue keys. */
  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        ({ proc }) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
            proc.once('exit', () => (clearTimeout(timer), resolve()));
            proc.kill('SIGTERM');
          }),
      ),
    );
    await dropDatabase(this.database);
    await deleteQueueKeys(this.env.HUB_QUEUE_PREFIX);
  }
}

/** A loopback sink in this process that answers 200 at once and counts what it received. */
export async function countingSink(): Promise<{ url: string; received: () => number; close: () => void }> {
  let received = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/d`,
    received: () => received,
    close: () => server.close(),
  };
}

/**
 * On a running hub: an AskElephant source and one webhook destination to `sinkUrl`. Returns the load's request
 * maker: a signed `v1.engagement.updated` (the shipped sample) with a fresh event id each time.
 */
export async function askElephantToSink(hub: HubProcesses, sinkUrl: string, idPrefix: string): Promise<() => Request> {
  const secret = whsec();
  const source = await hub.api('POST', '/api/sources', { name: 'bench', connector: 'askelephant', secrets: [secret] });
  await hub.api('POST', '/api/destinations', {
    name: 'sink',
    type: 'webhook',
    url: sinkUrl,
    eventTypes: ['activity.*'],
  });
  const engagement = JSON.parse(sample('askelephant', 'v1.engagement.updated.json').toString());
  let serial = 0;
  return () => {
    const key = `${idPrefix}${serial++}`;
    const body = JSON.stringify({ ...engagement, id: key });
    return { path: `/hooks/${source.id}`, body, headers: svixHeaders(secret, body), key };
  };
}
