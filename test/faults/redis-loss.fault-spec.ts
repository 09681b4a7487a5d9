import { Client } from 'pg';
import { account } from './harness/accounting';
import { sleep } from './harness/env';
import { HubDeployment } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { PrivateRedis } from './harness/private-redis';
import { deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 100;
const SECONDS = 16;
const FLUSH_AT_MS = 4000;
const REDIS_DOWN_AT_MS = 9000;
const REDIS_DOWN_FOR_MS = 3000;

/**
 * Scenario 2: the hub's Redis loses every job twice, by FLUSHALL and then by a restart of a server without
 * persistence, during load. Postgres is the truth, so the reconciler must re-enqueue everything owed.
 * A private redis-server on a free port: the shared 6379 is never touched.
 */
describe('fault: Redis FLUSHALL and restart', () => {
  const redis = new PrivateRedis();
  let deployment: HubDeployment | undefined;
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment?.dispose();
    await redis.stop();
    await sink.stop();
  });

  it('loses nothing when Redis loses its jobs', async () => {
    const startedAt = Date.now();
    await redis.start();
    await sink.start();
    deployment = new HubDeployment('redis', redis.url);
    const hub = await deployment.start('all');
    const source = await createSource(hub.baseUrl, 'salesask');
    const destination = await createSinkDestination(hub.baseUrl, sink, 'main');

    const timeline: string[] = [];
    const faults = (async () => {
      const t0 = Date.now();
      await sleep(FLUSH_AT_MS);
      timeline.push(`FLUSHALL at ${Date.now() - t0} ms: ${await redis.flushAll()}`);
      await sleep(Math.max(0, t0 + REDIS_DOWN_AT_MS - Date.now()));
      await redis.stop();
      timeline.push(`redis-server killed at ${Date.now() - t0} ms`);
      await sleep(REDIS_DOWN_FOR_MS);
      await redis.start();
      timeline.push(`redis-server back (empty) at ${Date.now() - t0} ms`);
    })();
    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(hub.baseUrl, source.id, `r${i}`),
    });
    await faults;

    db = await deployment.sql();
    const accounting = await account(db, load.acks, sink, 'main', destination.id, 60_000);
    const failed = finish(
      'redis-flush-restart',
      `FLUSHALL, then a ${REDIS_DOWN_FOR_MS / 1000} s Redis restart, during ${RATE}/s`,
      startedAt,
      accounting,
      [
        ...deliveryChecks(accounting, sink),
        {
          name: 'the hub process stays up',
          ok: hub.alive && hub.unexpectedExits.length === 0,
          detail: hub.unexpectedExits.join('; ') || undefined,
        },
      ],
      {
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
        timeline,
      },
    );
    expect(failed).toEqual([]);
  });
});
