import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The repository root: the hub runs from here, so it finds connectors/ and mappings/. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const HUB_ENTRY = join(REPO_ROOT, 'dist', 'src', 'main.js');
export const RESULTS_FILE = join(REPO_ROOT, 'bench', 'results', 'faults.json');

export const FAULT_API_KEY = 'fault-suite-api-key-0123456789abcdef';
/** The shared Postgres server; each scenario gets its own database on it. */
export const PG_SERVER = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
/** The shared Redis; each scenario gets its own queue prefix (scenario 2 runs its own private redis-server). */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Long enough to outlive the 30 s sink outage (0 + 0.5 + 1 + 2 + 4 + 8 × 6 = 55.5 s, 44 s with -20 % jitter),
 * short enough that a retried delivery lands within a scenario's settle period.
 */
export const FAULT_RETRY_SCHEDULE = '0,0.5,1,2,4,8,8,8,8,8,8';

export function uniqueName(scenario: string): string {
  return `sbfault_${scenario}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nobody listens on right now (the kernel picks it; released before use, which is good enough on loopback). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` returns a truthy value; every wait in the suite is bounded. */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  { timeoutMs, intervalMs = 200, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
