import { Client } from 'pg';
import { account } from './harness/accounting';
import { SHARED_REDIS_URL, sleep } from './harness/env';
import { HubDeployment, HubProcess } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 200;
const SECONDS = 15;
const KILLS_AT_MS = [3500, 7500, 11_500];

/**
 * Scenario 1: an `all` hub is killed with SIGKILL three times during a 200/s load and restarted on the same
 * port each time. Deliveries claimed by a killed process come back when their lease expires, so the settle
 * period outlasts the lease.
 */
describe('fault: kill -9 of the hub under load', () => {
  const deployment = new HubDeployment('kill9', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it('loses nothing acknowledged across three kills', async () => {
    const startedAt = Date.now();
    await sink.start();
    let hub: HubProcess = await deployment.start('all');
    const port = hub.port;
    const source = await createSource(hub.baseUrl, 'salesask');
    const destination = await createSinkDestination(hub.baseUrl, sink, 'main');

    const restarts: { killedAt: number; servingAfterMs: number }[] = [];
    const faults = (async () => {
      const t0 = Date.now();
      for (const at of KILLS_AT_MS) {
        await sleep(Math.max(0, t0 + at - Date.now()));
        const killedAt = Date.now();
        await hub.kill('SIGKILL');
        hub = await deployment.start('all', port);
        restarts.push({ killedAt: killedAt - t0, servingAfterMs: Date.now() - killedAt });
      }
    })();
    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(`http://127.0.0.1:${port}`, source.id, `k${i}`),
    });
    await faults;

    db = await deployment.sql();
    // Lease (60 s) + reconciler pass + retry schedule: what a delivery claimed by a killed process can take.
    const accounting = await account(db, load.acks, sink, 'main', destination.id, 120_000);
    const unexpectedExits = deployment.processes.flatMap((p) => p.unexpectedExits);
    const failed = finish(
      'kill-9',
      `kill -9 of an all hub ×${KILLS_AT_MS.length} during ${RATE}/s for ${SECONDS} s`,
      startedAt,
      accounting,
      [
        ...deliveryChecks(accounting, sink),
        {
          name: 'no hub exit the test did not cause',
          ok: unexpectedExits.length === 0,
          detail: unexpectedExits.join('; ') || undefined,
        },
      ],
      {
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
        restarts,
      },
    );
    expect(failed).toEqual([]);
  });
});
