import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';
import { Client } from 'pg';
import {
  FAULT_API_KEY,
  FAULT_RETRY_SCHEDULE,
  freePort,
  HUB_ENTRY,
  PG_SERVER,
  REPO_ROOT,
  sleep,
  uniqueName,
  waitUntil,
} from './env';

export type HubRole = 'api' | 'worker' | 'all';

/**
 * One hub deployment: one database, one queue prefix, one Redis, one encryption key. Any number of hub
 * processes (api, worker, all) can run on it; `dispose` kills them all, drops the database and deletes the keys.
 */
export class HubDeployment {
  readonly databaseName: string;
  readonly queuePrefix: string;
  readonly encryptionKey = randomBytes(32).toString('base64');
  readonly processes: HubProcess[] = [];

  constructor(
    scenario: string,
    readonly redisUrl: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.databaseName = uniqueName(scenario);
    this.queuePrefix = this.databaseName;
  }

  get databaseUrl(): string {
    return `${PG_SERVER}/${this.databaseName}`;
  }

  env(role: HubRole, port: number): Record<string, string> {
    return {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      HUB_QUEUE_PREFIX: this.queuePrefix,
      HUB_API_KEY: FAULT_API_KEY,
      HUB_ENCRYPTION_KEY: this.encryptionKey,
      HUB_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128',
      HUB_RETRY_SCHEDULE: FAULT_RETRY_SCHEDULE,
      HUB_RECONCILE_INTERVAL: '1',
      LOG_LEVEL: 'warn',
      HUB_ROLE: role,
      ...this.extraEnv,
    };
  }

  /** Starts a hub process and waits until it serves (api/all: GET /health 200; worker: its queue workers registered). */
  async start(role: HubRole, port?: number): Promise<HubProcess> {
    const hub = new HubProcess(this, role, port ?? (await freePort()));
    this.processes.push(hub);
    await hub.start();
    return hub;
  }

  /** A pg client on this deployment's database (the test's own connection, outside the hub's pool). */
  async sql(): Promise<Client> {
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined); // a terminated backend must not crash the test process
    await client.connect();
    return client;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    const admin = new Client({ connectionString: `${PG_SERVER}/postgres`, connectionTimeoutMillis: 5000 });
    try {
      await admin.connect();
      await admin.query(`ALTER DATABASE "${this.databaseName}" ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`);
    } finally {
      await admin.end().catch(() => undefined);
    }
    await deleteKeys(this.redisUrl, this.queuePrefix).catch(() => undefined);
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Counts BullMQ worker connections of one queue prefix: a worker names its blocking connection
 * `<prefix>:<base64 queue name>` (plus `:w:<name>` when named); producers leave theirs unnamed.
 */
async function workerConnections(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.connect();
    const list = (await redis.client('LIST')) as string;
    const named = new RegExp(`name=${prefix}:[A-Za-z0-9+/=]+(:w:\\S+)?(\\s|$)`);
    return list.split('\n').filter((line) => named.test(line)).length;
  } finally {
    redis.disconnect();
  }
}

const OUTPUT_LINES = 400;

/** `node dist/src/main.js` as a child process. Keeps its last output lines for failure reports. */
export class HubProcess {
  child?: ChildProcess;
  readonly output: string[] = [];
  /** Every exit of this process that the test did not cause. */
  readonly unexpectedExits: string[] = [];
  private exited?: Promise<void>;
  private killing = false;

  constructor(
    readonly deployment: HubDeployment,
    readonly role: HubRole,
    readonly port: number,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 45_000): Promise<void> {
    const workersBefore =
      this.role === 'worker'
        ? await workerConnections(this.deployment.redisUrl, this.deployment.queuePrefix).catch(() => 0)
        : 0;
    this.killing = false;
    const child = spawn(process.execPath, [HUB_ENTRY], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.deployment.env(this.role, this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.output.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
        if (this.output.length > OUTPUT_LINES) this.output.shift();
      }
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.killing)
          this.unexpectedExits.push(`${this.role} pid ${child.pid} exited: code ${code} signal ${signal}`);
        resolve();
      }),
    );
    try {
      await waitUntil(
        async () => {
          if (!this.alive) throw new Error(`the hub exited during start-up:\n${this.tail(30)}`);
          if (this.role === 'worker') {
            const now = await workerConnections(this.deployment.redisUrl, this.deployment.queuePrefix);
            return now > workersBefore;
          }
          const response = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
          return response.status === 200;
        },
        { timeoutMs, intervalMs: 100, what: `the ${this.role} hub on port ${this.port} to serve` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- hub output ---\n${this.tail(30)}`);
    }
  }

  /** Sends a signal and waits (bounded) for the exit; SIGKILL follows if a gentler signal did not work. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.killing = true;
    this.child!.kill(signal);
    const done = await Promise.race([this.exited!.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      this.child!.kill('SIGKILL');
      await Promise.race([this.exited, sleep(5000)]);
    }
  }

  /** Resident set size from /proc (Linux), in bytes. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  }

  /** Distinct warnings and errors the hub logged ("msg: err.message" → count), from the kept output. */
  errorSummary(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const line of this.output) {
      let entry: { level?: number; msg?: string; err?: { message?: string } | string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = { msg: line.slice(0, 200) };
      }
      if (entry.level !== undefined && entry.level < 40) continue;
      const err = typeof entry.err === 'string' ? entry.err : entry.err?.message;
      const key = `${entry.msg ?? ''}${err ? `: ${err.slice(0, 200)}` : ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /** The hub's own log line for one request, by the correlation id its error answer carried. */
  errorFor(correlationId: string): string | undefined {
    const line = this.output.find((l) => l.includes(correlationId));
    if (!line) return undefined;
    try {
      const entry = JSON.parse(line) as { err?: { type?: string; message?: string } };
      return `${entry.err?.type ?? ''}: ${entry.err?.message ?? ''}`.slice(0, 200);
    } catch {
      return line.slice(0, 200);
    }
  }

  tail(lines: number): string {
    return this.output.slice(-lines).join('\n');
  }
}
