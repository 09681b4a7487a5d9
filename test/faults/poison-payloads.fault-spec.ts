import { Client } from 'pg';
import { FAULT_API_KEY, SHARED_REDIS_URL, sleep } from './harness/env';
import { HubDeployment, HubProcess } from './harness/hub-process';
import { send } from './harness/load-generator';
import { createSinkDestination, createSource, salesAskRequest } from './harness/management';
import { poisonBodies, POISON_CONNECTORS } from './harness/poison';
import { check, finish } from './harness/scenario';
import { VerifyingSink } from './harness/verifying-sink';

const FAIL_WITHIN_MS = 30_000;

interface Sent {
  connector: string;
  kind: string;
  mayNormalize: boolean;
  bytes: number;
  status?: number;
  inboundId?: string;
  ackAt: number;
}

/**
 * Scenario 6: poison payloads for every connector. Each must end `failed` with a non-empty reason within 30 s of
 * its ack, and meanwhile the hub keeps serving: /health answers, and a healthy Sales Ask event sent after the
 * poison is delivered.
 */
describe('fault: poison payloads for every connector', () => {
  const deployment = new HubDeployment('poison', SHARED_REDIS_URL);
  const sink = new VerifyingSink();
  let db: Client | undefined;

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await deployment.dispose();
    await sink.stop();
  });

  it('fails every poison event with a reason within 30 s and keeps serving', async () => {
    const startedAt = Date.now();
    await sink.start();
    const hub: HubProcess = await deployment.start('all');
    await createSinkDestination(hub.baseUrl, sink, 'main');
    const sources = new Map<string, { id: string; secrets: string[] }>();
    for (const c of POISON_CONNECTORS) {
      const secrets = c.secrets();
      const source = await createSource(hub.baseUrl, c.connector, secrets.length ? secrets : undefined);
      sources.set(c.connector, { id: source.id, secrets });
    }
    const canarySource = sources.get('salesask')!.id;

    const sends: Promise<Sent>[] = [];
    for (const c of POISON_CONNECTORS) {
      const { id, secrets } = sources.get(c.connector)!;
      for (const poison of poisonBodies(c)) {
        const request = { url: `${hub.baseUrl}/hooks/${id}`, headers: c.sign(secrets, poison.body), body: poison.body };
        sends.push(
          send(0, Date.now(), request, 30_000).then((r) => ({
            connector: c.connector,
            kind: poison.kind,
            mayNormalize: poison.mayNormalize ?? false,
            bytes: Buffer.byteLength(poison.body),
            status: r.status ?? undefined,
            inboundId: r.inboundId,
            ackAt: r.doneAt,
          })),
        );
      }
    }
    // While the poison is being normalised: is the hub still serving small requests promptly?
    const probes: { healthMs: number; healthStatus?: number; ingestMs: number; ingestStatus?: number }[] = [];
    const canaryAcks: string[] = [];
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      const healthStart = Date.now();
      const health = await fetch(`${hub.baseUrl}/health`, { signal: AbortSignal.timeout(20_000) }).catch(
        () => undefined,
      );
      const healthMs = Date.now() - healthStart;
      const canary = await send(i, Date.now(), salesAskRequest(hub.baseUrl, canarySource, `canary${i}`), 20_000);
      if (canary.inboundId) canaryAcks.push(canary.inboundId);
      probes.push({
        healthMs,
        healthStatus: health?.status,
        ingestMs: canary.doneAt - canary.dueAt,
        ingestStatus: canary.status,
      });
    }
    const sent = await Promise.all(sends);

    db = await deployment.sql();
    const acked = sent.filter((s) => s.inboundId);
    const outcome = async () => {
      const rows = await db!.query<{ id: string; status: string; error: string | null }>(
        'SELECT id, status, error FROM inbound_event WHERE id = ANY($1)',
        [acked.map((s) => s.inboundId)],
      );
      return new Map(rows.rows.map((r) => [r.id, r]));
    };
    const lastAck = Math.max(...acked.map((s) => s.ackAt));
    let rows = await outcome();
    while (Date.now() < lastAck + FAIL_WITHIN_MS) {
      rows = await outcome();
      if ([...rows.values()].every((r) => r.status !== 'received')) break;
      await sleep(1000);
    }
    const table = sent.map((s) => {
      const row = s.inboundId ? rows.get(s.inboundId) : undefined;
      return {
        connector: s.connector,
        kind: s.kind,
        mayNormalize: s.mayNormalize,
        bytes: s.bytes,
        ingest: s.status ?? 'no answer',
        status: row?.status ?? '-',
        reason: row?.error ? row.error.slice(0, 160) : undefined,
      };
    });
    const notFailed = table.filter(
      (t) => t.ingest === 202 && !(t.status === 'failed' && t.reason) && !(t.mayNormalize && t.status === 'normalized'),
    );
    // The event detail must stay readable for ops whatever the payload (issue 7: 500 for deep payloads).
    const detailErrors: string[] = [];
    for (const s of acked) {
      const status = await fetch(`${hub.baseUrl}/api/events/${s.inboundId}`, {
        headers: { authorization: `Bearer ${FAULT_API_KEY}` },
        signal: AbortSignal.timeout(20_000),
      })
        .then((r) => r.status)
        .catch((err: Error) => err.message);
      if (status !== 200) detailErrors.push(`${s.connector} ${s.kind}: ${status}`);
    }
    const canaryDelivered = async () => {
      const canonical = await db!.query<{ id: string }>(
        'SELECT id FROM canonical_event WHERE inbound_event_id = ANY($1)',
        [canaryAcks],
      );
      const arrived = new Set(sink.arrivalsOf('main').map((a) => a.eventId));
      return canonical.rows.filter((r) => arrived.has(r.id)).length;
    };
    const deadline = Date.now() + 20_000;
    let delivered = await canaryDelivered();
    while (delivered < canaryAcks.length && Date.now() < deadline) {
      await sleep(500);
      delivered = await canaryDelivered();
    }
    const slowestHealth = Math.max(...probes.map((p) => p.healthMs));
    const slowestIngest = Math.max(...probes.map((p) => p.ingestMs));
    for (const row of table) process.stdout.write(`  ${JSON.stringify(row)}\n`);

    const failed = finish(
      'poison-payloads',
      `${sent.length} poison payloads across ${POISON_CONNECTORS.length} connectors`,
      startedAt,
      { acknowledged: acked.length, delivered, lost: canaryAcks.length - delivered },
      [
        check(
          `every acknowledged poison event ends failed with a reason (or normalized, where the mapping ignores it) within ${FAIL_WITHIN_MS / 1000} s`,
          notFailed.length === 0,
          notFailed
            .map((t) => `${t.connector} / ${t.kind}: ${t.status}${t.reason ? ` (${t.reason})` : ''}`)
            .join('; ') || undefined,
        ),
        check(
          'GET /api/events/:id answers 200 for every poison event',
          detailErrors.length === 0,
          detailErrors.join('; ') || undefined,
        ),
        check(
          'the hub process stays up',
          hub.alive && hub.unexpectedExits.length === 0,
          hub.unexpectedExits.join('; ') || undefined,
        ),
        check(
          '/health answers 200 within 2 s while poison is processed',
          probes.every((p) => p.healthStatus === 200) && slowestHealth < 2000,
          `slowest ${slowestHealth} ms`,
        ),
        check(
          'a small ingest answers within 2 s while poison is processed',
          probes.every((p) => p.ingestStatus === 202) && slowestIngest < 2000,
          `slowest ${slowestIngest} ms`,
        ),
        check(
          'healthy events sent meanwhile are delivered',
          delivered === canaryAcks.length,
          `${delivered}/${canaryAcks.length}`,
        ),
      ],
      { poison: table, probes, hubErrors: hub.errorSummary() },
    );
    expect(failed).toEqual([]);
  });
});
