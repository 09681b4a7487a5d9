import { ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { freePort, sleep, waitUntil } from './env';

/**
 * A redis-server of the test's own on a free port, never the shared 6379: FLUSHALL and restarts here touch
 * nobody else. No persistence, so a restart comes back empty, as after losing the Redis host.
 */
export class PrivateRedis {
  port = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitUntil(() => this.command((r) => r.ping()).then((p) => p === 'PONG'), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: `redis-server on port ${this.port}`,
    });
    return this;
  }

  /** Stops the server (SIGKILL: an abrupt loss, nothing saved) and waits for it to exit. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await Promise.race([this.exited, sleep(5000)]);
  }

  flushAll(): Promise<string> {
    return this.command((r) => r.flushall());
  }

  private async command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1000 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }
}
