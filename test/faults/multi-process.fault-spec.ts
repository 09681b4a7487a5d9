import { Client } from 'pg';
import { account } from './harness/accounting';
import { SHARED_REDIS_URL } from './harness/env';
import { HubDeployment } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { check, deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 100;
const SECONDS = 15;

/**
 * Scenario 8: two API processes and two worker processes on one database and one Redis, the load spread across
 * both APIs. Every event is delivered; a second arrival of a delivery is only acceptable when the delivery was
 * claimed again (a lost lease), and the count is reported.
 */
describe('fault: two API and two worker processes', () => {
  const deployment = new HubDeployment('multi', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it('delivers every event once across competing workers', async () => {
    const startedAt = Date.now();
    await sink.start();
    // The first API creates the database and runs the migrations; the others then start together.
    const api1 = await deployment.start('api');
    const [api2] = await Promise.all([deployment.start('api'), deployment.start('worker'), deployment.start('worker')]);
    const source = await createSource(api1.baseUrl, 'salesask');
    const destination = await createSinkDestination(api2.baseUrl, sink, 'main');

    const apis = [api1, api2];
    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(apis[i % 2].baseUrl, source.id, `m${i}`),
    });

    db = await deployment.sql();
    const accounting = await account(db, load.acks, sink, 'main', destination.id, 60_000);
    const unexpectedExits = deployment.processes.flatMap((p) => p.unexpectedExits);
    const failed = finish(
      'two-api-two-workers',
      `2 api + 2 worker processes, ${RATE}/s for ${SECONDS} s across both APIs`,
      startedAt,
      accounting,
      [
        ...deliveryChecks(accounting, sink),
        check('acknowledged everything sent', accounting.acknowledged === RATE * SECONDS, load.statusCounts),
        check('no duplicate beyond a lost lease', accounting.unexplainedDuplicates === 0, {
          duplicates: accounting.duplicates,
          unexplained: accounting.unexplainedDuplicates,
        }),
        check(
          'no process exit the test did not cause',
          unexpectedExits.length === 0,
          unexpectedExits.join('; ') || undefined,
        ),
      ],
      {
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
      },
    );
    expect(failed).toEqual([]);
  });
});
