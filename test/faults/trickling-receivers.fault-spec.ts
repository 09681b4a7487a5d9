import { Client } from 'pg';
import { account } from './harness/accounting';
import { SHARED_REDIS_URL } from './harness/env';
import { HubDeployment } from './harness/hub-process';
import { runOpenLoop } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { check, deliveryChecks, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const RATE = 10;
const SECONDS = 20;
const TRICKLERS = 8;
const HEALTHY_P99_BOUND_MS = 2000;

/**
 * Scenario 5: eight destinations whose receivers send headers and then one byte every 3 s, never finishing,
 * beside one healthy destination; every destination gets every event. Per-destination caps and a hard attempt
 * deadline must keep the healthy destination's deliveries flowing.
 */
describe('fault: 8 trickling receivers beside a healthy one', () => {
  const deployment = new HubDeployment('trickle', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it("keeps the healthy destination's p99 delivery latency under 2 s", async () => {
    const startedAt = Date.now();
    await sink.start();
    const hub = await deployment.start('all');
    const source = await createSource(hub.baseUrl, 'salesask');
    for (let i = 0; i < TRICKLERS; i++) await createSinkDestination(hub.baseUrl, sink, `trickle${i}`, 'trickle');
    const healthy = await createSinkDestination(hub.baseUrl, sink, 'healthy');

    const load = await runOpenLoop({
      rate: RATE,
      count: RATE * SECONDS,
      request: (i) => salesAskRequest(hub.baseUrl, source.id, `t${i}`),
    });

    db = await deployment.sql();
    const accounting = await account(db, load.acks, sink, 'healthy', healthy.id, 30_000);
    const attempts = await db.query<{ status: string; n: string }>(
      `SELECT d.status, count(*) AS n FROM delivery d WHERE d.destination_id <> $1 GROUP BY d.status`,
      [healthy.id],
    );
    const recorded = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id WHERE d.destination_id <> $1',
      [healthy.id],
    );
    const p99 = accounting.p99AckToDeliveryMs;
    const failed = finish(
      'trickling-receivers',
      `${TRICKLERS} trickling receivers + 1 healthy, ${RATE}/s for ${SECONDS} s`,
      startedAt,
      accounting,
      [
        ...deliveryChecks(accounting, sink),
        check(
          `healthy destination p99 ack→delivery < ${HEALTHY_P99_BOUND_MS} ms`,
          p99 !== null && p99 < HEALTHY_P99_BOUND_MS,
          `p99 ${p99} ms over ${accounting.delivered} delivered`,
        ),
      ],
      {
        healthyP99AckToDeliveryMs: p99,
        tricklingRequestsAccepted: sink.trickled,
        tricklingDeliveriesByStatus: Object.fromEntries(attempts.rows.map((r) => [r.status, Number(r.n)])),
        tricklingAttemptsRecorded: Number(recorded.rows[0].n),
        hubErrors: deployment.processes.reduce((all, p) => ({ ...all, ...p.errorSummary() }), {}),
        load: { statusCounts: load.statusCounts, p50Ms: load.p50Ms, p99Ms: load.p99Ms },
      },
    );
    expect(failed).toEqual([]);
  });
});
