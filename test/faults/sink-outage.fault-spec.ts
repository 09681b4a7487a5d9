import { Client } from 'pg';
import { account } from './harness/accounting';
import { SHARED_REDIS_URL, sleep } from './harness/env';
import { HubDeployment } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 50;
const SECONDS = 10;
const DOWN_AT_MS = 2000;
const DOWN_MS = 30_000;

/** Scenario 4: the receiver refuses connections for 30 s; once it is back, everything arrives (retry schedule). */
describe('fault: the sink down for 30 s', () => {
  const deployment = new HubDeployment('sink', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it('delivers everything once the sink is back', async () => {
    const startedAt = Date.now();
    await sink.start();
    const hub = await deployment.start('all');
    const source = await createSource(hub.baseUrl, 'salesask');
    const destination = await createSinkDestination(hub.baseUrl, sink, 'main');

    let upAt = 0;
    const outage = (async () => {
      await sleep(DOWN_AT_MS);
      await sink.stop();
      await sleep(DOWN_MS);
      await sink.start();
      upAt = Date.now();
    })();
    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(hub.baseUrl, source.id, `s${i}`),
    });
    await outage;

    db = await deployment.sql();
    const accounting = await account(db, load.acks, sink, 'main', destination.id, 60_000);
    const lastArrival = Math.max(0, ...sink.arrivalsOf('main').map((a) => a.at));
    const failed = finish(
      'sink-outage',
      `sink refuses connections for ${DOWN_MS / 1000} s during ${RATE}/s`,
      startedAt,
      accounting,
      [...deliveryChecks(accounting, sink)],
      {
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
        lastArrivalAfterSinkUpMs: lastArrival - upAt,
      },
    );
    expect(failed).toEqual([]);
  });
});
