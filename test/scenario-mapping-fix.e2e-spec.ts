import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { CloudEvent } from '../src/canonical/cloud-event';
import { startHub, TEST_API_KEY, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { ROOT, sample } from './helpers/vendors';

const CONNECTOR = 'salesask';
const TYPE = 'recording.processed';
const FILE_TEXT = readFileSync(join(ROOT, 'mappings', CONNECTOR, `${TYPE}.jsonata`), 'utf8');

/** The file's mapping with `customFields` computed by `customFields` (over the file's own `$customFields`), and `title` by `title`. */
function mappingWith({ customFields, title }: { customFields: string; title?: string }): string {
  let text = FILE_TEXT.replace('"customFields": $customFields', `"customFields": ${customFields}`);
  if (title) text = text.replace('"title": $val($d.name),', `"title": ${title},`);
  if (text === FILE_TEXT || (title && !text.includes(title))) {
    throw new Error('the Sales Ask mapping no longer has the lines this scenario edits');
  }
  return text;
}

/**
 * The bug: deal sizes as numbers, written for the documented "50k". It passes the samples and cases (all "…k"), so
 * the hub accepts it, and fails on real traffic that sends millions: "1.2M" has no "k" to replace and $number
 * refuses it.
 */
const BUGGY = mappingWith({
  customFields: '$merge([$customFields, { "dealSizeAmount": $number($replace($d.dealSize, "k", "000")) }])',
});
const AMOUNT =
  '$d.dealSize ? ($m := $match($d.dealSize, /^([0-9.]+)([kM]?)$/); ' +
  '$m ? $number($m.groups[0]) * ($m.groups[1] = "k" ? 1000 : $m.groups[1] = "M" ? 1000000 : 1))';
const FIXED = mappingWith({ customFields: `$merge([$customFields, { "dealSizeAmount": ${AMOUNT} }])` });
/** Scenario B's correction on top: titles come trimmed. */
const TRIMMED = mappingWith({
  customFields: `$merge([$customFields, { "dealSizeAmount": ${AMOUNT} }])`,
  title: '$d.name ? $trim($d.name)',
});

/** A Sales Ask recording (distinct body, so a distinct event) with its own id, deal size and name. */
function recording(id: string, dealSize: string, name = 'Call with John Doe'): string {
  const body = JSON.parse(sample(CONNECTOR, `${TYPE}.json`).toString());
  return JSON.stringify({ ...body, data: { ...body.data, id, dealSize, name } });
}

interface Group {
  id: string;
  kind: string;
  key: Record<string, string>;
  count: number;
  sampleIds: string[];
  action: { kind: string; label: string } | null;
}

/**
 * Issue 9 "Proof", both scenarios, against a real hub and a real webhook receiver on loopback:
 * A. a mapping bug makes events of one type fail → GET /api/issues shows them as one group → a fix is previewed on
 *    one failed event and dry-run over them → saved → the group's bulk re-normalise delivers each event exactly once
 *    and the group is gone;
 * B. a corrected mapping re-normalises an already delivered event and the receiver gets the new revision under a new
 *    webhook-id (the old one was delivered once, the new one once).
 */
describe('scenario: fixing a mapping from GET /api/issues e2e', () => {
  let hub: TestHub;
  let sink: Sink;
  let sourceId: string;
  const put = (path: string) => request(hub.baseUrl).put(path).set('authorization', `Bearer ${TEST_API_KEY}`);
  const received = () =>
    sink.requests.map((r) => ({ webhookId: String(r.headers['webhook-id']), event: JSON.parse(r.body) as CloudEvent }));
  const send = async (body: string) =>
    (await hub.http().post(`/hooks/${sourceId}`).set('content-type', 'application/json').send(body).expect(202)).body
      .id as string;
  const statusOf = async (id: string) =>
    (await hub.sql<{ status: string }>('SELECT status FROM inbound_event WHERE id = $1', [id]))[0]?.status;
  const mappingGroups = async () =>
    ((await hub.api().get('/api/issues').expect(200)).body.groups as Group[]).filter((g) => g.kind === 'mapping');
  /** Every delivery to the sink has ended succeeded, and the reconciler has had a pass since: nothing more is coming. */
  async function settled(): Promise<void> {
    await waitFor(
      async () =>
        (
          await hub.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM delivery WHERE status IN ('pending', 'sending', 'retrying')`,
          )
        )[0].n === 0,
      { what: 'every delivery to finish' },
    );
    await new Promise((resolve) => setTimeout(resolve, 2000 * hub.config.reconcileIntervalSeconds));
  }

  let delivered50k: string;
  let failing: string[] = [];

  beforeAll(async () => {
    hub = await startHub({ LOG_LEVEL: 'error' });
    sink = await new Sink().start();
    sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: CONNECTOR }).expect(201)).body
      .id;
    await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'CRM sink', type: 'webhook', url: sink.url, eventTypes: ['activity.*'] })
      .expect(201);
  });

  afterAll(async () => {
    if (process.env.DEBUG_LOGS) console.log(hub.logs.join(''));
    await sink?.stop();
    await hub?.close();
  });

  it('A1: a mapping the API accepts (it passes the samples and cases) fails real events of one type', async () => {
    const saved = await put(`/api/mappings/${CONNECTOR}/${TYPE}`)
      .send({ expression: BUGGY, comment: 'deal size as a number' })
      .expect(200);
    expect(saved.body).toMatchObject({ origin: 'override', version: 'override:1' });

    delivered50k = await send(recording('rec_50k', '50k'));
    failing = [
      await send(recording('rec_m1', '1.2M')),
      await send(recording('rec_m2', '3M')),
      await send(recording('rec_m3', '2.5M')),
    ];
    await waitFor(async () => (await statusOf(delivered50k)) === 'normalized', { what: 'the 50k event' });
    for (const id of failing) await waitFor(async () => (await statusOf(id)) === 'failed', { what: `${id} to fail` });
    await settled();
    expect(received().map((r) => r.event.data.customFields)).toEqual([
      expect.objectContaining({ dealSize: '50k', dealSizeAmount: 50000 }),
    ]);
  });

  it('A2: GET /api/issues shows the failures as one group, with the failed events as samples', async () => {
    const groups = await mappingGroups();
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({
      key: {
        connector: CONNECTOR,
        eventType: TYPE,
        // One reason for all three: the differing values ("1.2M", "3M", …) and the override's version are blanked.
        reason: expect.stringMatching(
          /^Mapping salesask\/recording\.processed failed: Unable to cast value to a number: "…" \(D3030 at (N|\d+)\)$/,
        ),
      },
      count: 3,
      action: { kind: 'renormalize', label: 'Re-normalise 3 events' },
    });
    expect([...groups[0].sampleIds].sort()).toEqual([...failing].sort());
  });

  it('A3: a fixed expression is previewed on one failed event, then dry-run over the real events', async () => {
    const inEffect = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, inboundEventId: failing[0] })
      .expect(200);
    expect(inEffect.body).toMatchObject({
      mappingVersion: 'override:1',
      events: [],
      errors: [{ code: 'mapping_evaluation_error' }],
    });

    const preview = await hub
      .api()
      .post('/api/mappings/preview')
      .send({ connector: CONNECTOR, eventType: TYPE, inboundEventId: failing[0], expression: FIXED })
      .expect(200);
    expect(preview.body.errors).toEqual([]);
    expect(preview.body.events).toEqual([
      expect.objectContaining({
        type: 'activity.analyzed',
        subject: 'activity:salesask:rec_m1',
        data: expect.objectContaining({ customFields: expect.objectContaining({ dealSizeAmount: 1200000 }) }),
      }),
    ]);

    const dryRun = await hub
      .api()
      .post(`/api/mappings/${CONNECTOR}/${TYPE}/dry-run`)
      .send({ expression: FIXED })
      .expect(200);
    // The three failed events have no stored output, so all their fields are new: changed.
    expect(dryRun.body).toMatchObject({ total: 4, passed: 4, failed: 0, changed: 3, unchanged: 1 });
    const failedRuns = (dryRun.body.events as { inboundEventId: string; ok: boolean; stored: boolean }[]).filter((e) =>
      failing.includes(e.inboundEventId),
    );
    expect(failedRuns).toHaveLength(3);
    expect(failedRuns.every((e) => e.ok && !e.stored)).toBe(true);
    // Preview and dry-run change nothing.
    for (const id of failing) expect(await statusOf(id)).toBe('failed');
  });

  it("A4-5: saved, then the group's bulk re-normalise delivers each event exactly once, and the group is gone", async () => {
    const [group] = await mappingGroups();
    await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: FIXED, comment: 'k and M' }).expect(200);

    const acted = await hub.api().post(`/api/issues/${group.id}/action`).expect(202);
    expect(acted.body).toEqual({ kind: 'renormalize', count: 3 });
    for (const id of failing) await waitFor(async () => (await statusOf(id)) === 'normalized', { what: `${id}` });
    await settled();

    const bySubject = new Map<string, number>();
    const byWebhookId = new Map<string, number>();
    for (const { webhookId, event } of received()) {
      bySubject.set(event.subject, (bySubject.get(event.subject) ?? 0) + 1);
      byWebhookId.set(webhookId, (byWebhookId.get(webhookId) ?? 0) + 1);
    }
    expect(Object.fromEntries(bySubject)).toEqual({
      'activity:salesask:rec_50k': 1,
      'activity:salesask:rec_m1': 1,
      'activity:salesask:rec_m2': 1,
      'activity:salesask:rec_m3': 1,
    });
    expect([...byWebhookId.values()]).toEqual([1, 1, 1, 1]);
    const amounts = received()
      .filter((r) => r.event.subject !== 'activity:salesask:rec_50k')
      .map((r) => (r.event.data.customFields as { dealSizeAmount?: number } | undefined)?.dealSizeAmount)
      .sort();
    expect(amounts).toEqual([1200000, 2500000, 3000000]);
    const versions = await hub.sql<{ mapping_version: string }>(
      `SELECT c.mapping_version FROM canonical_event c WHERE c.inbound_event_id = ANY($1)`,
      [failing],
    );
    expect(versions.map((v) => v.mapping_version)).toEqual(['override:2', 'override:2', 'override:2']);

    expect(await mappingGroups()).toEqual([]);
    await hub.api().get(`/api/issues/${group.id}`).expect(404);
    await hub.api().post(`/api/issues/${group.id}/action`).expect(404);
  });

  it('B: a corrected mapping re-normalises a delivered event; the new revision arrives under a new webhook-id', async () => {
    const before = sink.requests.length;
    const id = await send(recording('rec_trim', '10k', '  Call with Jane  '));
    await waitFor(async () => sink.requests.length === before + 1, { what: 'the first delivery' });
    const [first] = received().slice(before);
    expect(first.event.data.title).toBe('  Call with Jane  ');

    await put(`/api/mappings/${CONNECTOR}/${TYPE}`).send({ expression: TRIMMED, comment: 'trim titles' }).expect(200);
    await hub.api().post(`/api/events/${id}/renormalize`).expect(202);
    await waitFor(async () => sink.requests.length === before + 2, { what: 'the new revision' });
    await settled();

    const mine = received().slice(before);
    expect(mine).toHaveLength(2);
    const [, second] = mine;
    expect(second.event.data.title).toBe('Call with Jane');
    expect(second.event.subject).toBe(first.event.subject);
    expect(second.event.id).not.toBe(first.event.id);
    expect(second.webhookId).not.toBe(first.webhookId);
    // Each webhook-id once: the correction is not a retry a receiver would drop, and nothing was sent twice.
    const all = received().map((r) => r.webhookId);
    expect(all.filter((w) => w === first.webhookId)).toHaveLength(1);
    expect(all.filter((w) => w === second.webhookId)).toHaveLength(1);

    const detail = (await hub.api().get(`/api/events/${id}`).expect(200)).body;
    expect(detail.canonical.map((c: { revision: number; mappingversion?: string }) => c.revision)).toEqual([0, 1]);
    // Renormalising again with the same mapping: the same output, nothing delivered again.
    await hub.api().post(`/api/events/${id}/renormalize`).expect(202);
    await waitFor(async () => (await statusOf(id)) === 'normalized', { what: 'the second re-normalise' });
    await settled();
    expect(sink.requests.length).toBe(before + 2);
  });
});
