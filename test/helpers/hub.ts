import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createHttpApp } from '../../src/bootstrap';
import { HubConfig, loadConfig } from '../../src/config/hub-config';
import { salesAskRecording } from './vendors';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestHub {
  app: NestFastifyApplication;
  config: HubConfig;
  baseUrl: string;
  databaseName: string;
  logs: string[];
  /** supertest against the hub, with the API key. */
  api(): {
    get(p: string): request.Test;
    post(p: string): request.Test;
    patch(p: string): request.Test;
    delete(p: string): request.Test;
  };
  http(): ReturnType<typeof request>;
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Starts a real hub on 127.0.0.1 with its own database and its own queue prefix (STYLE habit 7), against the
 * real Postgres and Redis. Loopback is allow-listed for outbound delivery, as DESIGN §5 says tests must.
 */
export async function startHub(env: Record<string, string> = {}): Promise<TestHub> {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseName = `sbtest_${suffix}`;
  const config = loadConfig({
    DATABASE_URL: `${SERVER_URL}/${databaseName}`,
    REDIS_URL,
    HUB_QUEUE_PREFIX: `sbtest_${suffix}`,
    HUB_API_KEY: TEST_API_KEY,
    HUB_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    HUB_OUTBOUND_ALLOW: '127.0.0.0/8,::1/128',
    HUB_RETRY_SCHEDULE: '0,0.2,0.2,0.2,0.2',
    HUB_RECONCILE_INTERVAL: '1',
    LOG_LEVEL: 'info',
    ...env,
  });
  const logs: string[] = [];
  const logger = pino(
    { level: config.logLevel },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  const app = await createHttpApp(config, logger);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const dataSource = app.get(DataSource);
  const auth = (t: request.Test) => t.set('authorization', `Bearer ${TEST_API_KEY}`);
  let closed = false;

  return {
    app,
    config,
    baseUrl,
    databaseName,
    logs,
    api: () => ({
      get: (p) => auth(request(baseUrl).get(p)),
      post: (p) => auth(request(baseUrl).post(p)),
      patch: (p) => auth(request(baseUrl).patch(p)),
      delete: (p) => auth(request(baseUrl).delete(p)),
    }),
    http: () => request(baseUrl),
    sql: (text, params) => dataSource.query(text, params),
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await dropDatabase(databaseName);
      await deleteQueueKeys(config.queuePrefix);
    },
  };
}

/** Creates a webhook destination named `sink` for `url` and answers its id (the API must answer 201). */
export async function addSink(hub: TestHub, url: string, eventTypes: string[]): Promise<string> {
  const created = await hub
    .api()
    .post('/api/destinations')
    .send({ name: 'sink', type: 'webhook', url, eventTypes })
    .expect(201);
  return created.body.id as string;
}

/** POSTs a Sales Ask `recording.processed` to a url-token source (nothing to sign) and expects the 202. */
export function postSalesAsk(hub: TestHub, sourceId: string, recordingId: string): request.Test {
  return hub
    .http()
    .post(`/hooks/${sourceId}`)
    .set('content-type', 'application/json')
    .send(salesAskRecording(recordingId))
    .expect(202);
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new Client({ connectionString: `${SERVER_URL}/postgres` });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Removes every Redis key of one hub's queue prefix: "flushing Redis" for that hub without touching others. */
export async function deleteQueueKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
