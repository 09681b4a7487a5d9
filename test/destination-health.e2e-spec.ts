import { DestinationHealthService } from '../src/destinations/destination-health.service';
import { postSalesAsk, startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';

interface Health {
  successRate: number | null;
  delivered24h: number;
  failed24h: number;
  backlog: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
}

interface Destination {
  id: string;
  name: string;
  status: 'active' | 'disabled';
  disabledReason: string | null;
  disabledAt: string | null;
  health: Health;
  missed?: { count: number; since: string };
}

/** The failure window of this hub: short, so the auto-disable happens within the test (the shipped default is 5d). */
const WINDOW_MS = 4000;

/**
 * Issue 9, destination health: the health figures on every destination object, the per-destination /metrics
 * gauges, the failure window that auto-disables a destination whose deliveries only fail, what a disabled
 * destination misses, and re-enabling with replay-missed, against a real hub and real receivers on loopback.
 */
describe('destination health e2e', () => {
  let hub: TestHub;
  /** Succeeds twice, then answers 500 until told otherwise. */
  let flip: Sink;
  /** Always 200. */
  let steady: Sink;
  /** 500 for the first event (exhausted), then 200: failed once, then recovered. */
  let recovering: Sink;
  let source: string;
  let flipId: string;
  let steadyId: string;
  let recoveringId: string;
  const inbound: Record<string, string> = {};
  let exhaustedAt: string;
  let disabledAt: string;

  const send = async (tag: string) => {
    const accepted = await postSalesAsk(hub, source, `rec_${tag}`);
    inbound[tag] = accepted.body.id;
  };
  const destination = async (id: string): Promise<Destination> =>
    (await hub.api().get(`/api/destinations/${id}`).expect(200)).body;
  const deliveriesOf = async (id: string, status?: string): Promise<{ canonicalEventId: string; status: string }[]> =>
    (
      await hub
        .api()
        .get(`/api/deliveries?destinationId=${id}${status ? `&status=${status}` : ''}&limit=500`)
        .expect(200)
    ).body.items;
  const canonicalIdsOf = async (...tags: string[]) =>
    (
      await hub.sql<{ id: string }>(`SELECT id FROM canonical_event WHERE inbound_event_id = ANY($1)`, [
        tags.map((tag) => inbound[tag]),
      ])
    )
      .map((row) => row.id)
      .sort();
  const sentIds = (sink: Sink) => sink.requests.map((r) => (JSON.parse(r.body) as { id: string }).id);
  const metricLine = (text: string, metric: string, id: string) =>
    text.split('\n').find((line) => line.startsWith(`${metric}{`) && line.includes(`destination="${id}"`));
  const create = async (name: string, url: string) =>
    (
      await hub
        .api()
        .post('/api/destinations')
        .send({
          name,
          type: 'webhook',
          url,
          eventTypes: ['activity.*'],
          headers: { 'x-api-key': 'hdr-secret-0123456' },
        })
        .expect(201)
    ).body as Destination;

  beforeAll(async () => {
    hub = await startHub({ HUB_DESTINATION_DISABLE_AFTER: `${WINDOW_MS / 1000}s` });
    flip = await new Sink().start();
    flip.respondWith({ status: 200 }, { status: 200 });
    flip.fallback = { status: 500, body: 'flip is down' };
    steady = await new Sink().start();
    recovering = await new Sink().start();
    recovering.fallback = { status: 500, body: 'not yet' };
    source = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201)).body
      .id;
    const created = await create('flip', flip.url);
    expect(created.health).toEqual({
      successRate: null,
      delivered24h: 0,
      failed24h: 0,
      backlog: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
    });
    expect(created).toMatchObject({ disabledReason: null, disabledAt: null });
    flipId = created.id;
    steadyId = (await create('steady', steady.url)).id;
    recoveringId = (await create('recovering', recovering.url)).id;
  });

  afterAll(async () => {
    await hub?.close();
    await flip?.stop();
    await steady?.stop();
    await recovering?.stop();
  });

  it('answers 401 without the API key on replay-missed', async () => {
    await hub.http().post(`/api/destinations/${flipId}/replay-missed`).expect(401);
  });

  it('shows success rate, counts, backlog, last success and failure, and a redacted last error', async () => {
    // r1: flip and steady succeed; recovering exhausts its 5 quick attempts (test schedule), then recovers for r2.
    await send('r1');
    await waitFor(async () => (await deliveriesOf(recoveringId, 'exhausted')).length === 1, {
      what: 'recovering to exhaust r1',
    });
    recovering.fallback = { status: 200 };
    await send('r2');
    await waitFor(async () => (await deliveriesOf(recoveringId, 'succeeded')).length === 1, {
      what: 'recovering to deliver r2',
    });
    // r3: flip now answers 500 until its delivery is exhausted.
    await send('r3');
    await waitFor(async () => (await deliveriesOf(flipId, 'exhausted')).length === 1, { what: 'flip to exhaust r3' });
    await waitFor(() => steady.requests.length === 3, { what: 'steady to receive r1..r3' });
    await waitFor(async () => (await deliveriesOf(recoveringId, 'succeeded')).length === 2, {
      what: 'recovering to deliver r3',
    });

    const shown = await destination(flipId);
    expect(shown.health).toMatchObject({
      successRate: 2 / 3,
      delivered24h: 2,
      failed24h: 1,
      backlog: 0,
      lastError: 'HTTP 500',
    });
    expect(Date.parse(shown.health.lastSuccessAt!)).toBeLessThan(Date.parse(shown.health.lastFailureAt!));
    exhaustedAt = shown.health.lastFailureAt!;

    const listed: Destination[] = (await hub.api().get('/api/destinations').expect(200)).body;
    const byName = Object.fromEntries(listed.map((d) => [d.name, d]));
    expect(byName.flip.health).toEqual(shown.health);
    expect(byName.steady.health).toMatchObject({
      successRate: 1,
      delivered24h: 3,
      failed24h: 0,
      lastFailureAt: null,
      lastError: null,
    });
    expect(byName.recovering.health).toMatchObject({ successRate: 2 / 3, delivered24h: 2, failed24h: 1 });
  });

  it('never shows a credential in lastError, even one a receiver echoed back', async () => {
    // Simulates an error text that echoes the destination's own header value and a bearer token.
    await hub.sql(
      `UPDATE delivery SET last_error = 'HTTP 401: x-api-key hdr-secret-0123456 refused; Authorization: Bearer tok.abc'
       WHERE destination_id = $1 AND status = 'exhausted'`,
      [flipId],
    );
    const { health } = await destination(flipId);
    expect(health.lastError).toBe('HTTP 401: x-api-key [redacted] refused; Authorization: [redacted]');
  });

  it('exports the figures on /metrics labelled by destination id, name and type', async () => {
    const text = (await hub.http().get('/metrics').expect(200)).text;
    const labels = (id: string, name: string) => `{destination="${id}",name="${name}",type="webhook"}`;
    expect(metricLine(text, 'switchboard_destination_success_ratio', flipId)).toBe(
      `switchboard_destination_success_ratio${labels(flipId, 'flip')} ${2 / 3}`,
    );
    expect(metricLine(text, 'switchboard_destination_backlog', flipId)).toBe(
      `switchboard_destination_backlog${labels(flipId, 'flip')} 0`,
    );
    expect(metricLine(text, 'switchboard_destination_last_failure_timestamp_seconds', flipId)).toBe(
      `switchboard_destination_last_failure_timestamp_seconds${labels(flipId, 'flip')} ${Date.parse(exhaustedAt) / 1000}`,
    );
    expect(metricLine(text, 'switchboard_destination_last_success_timestamp_seconds', steadyId)).toMatch(
      new RegExp(`^switchboard_destination_last_success_timestamp_seconds\\{[^}]+\\} \\d+(\\.\\d+)?$`),
    );
    expect(metricLine(text, 'switchboard_destination_last_failure_timestamp_seconds', steadyId)).toBeUndefined();
    expect(metricLine(text, 'switchboard_destination_enabled', steadyId)).toBe(
      `switchboard_destination_enabled${labels(steadyId, 'steady')} 1`,
    );
  });

  it('auto-disables the destination once its deliveries only failed for the whole window, and only it', async () => {
    const disabled = await waitFor(
      async () => {
        const shown = await destination(flipId);
        return shown.status === 'disabled' && shown;
      },
      { what: 'flip to be auto-disabled', timeoutMs: 20_000 },
    );
    disabledAt = disabled.disabledAt!;
    // Not before the window had passed since its first exhaustion.
    expect(Date.parse(disabledAt) - Date.parse(exhaustedAt)).toBeGreaterThanOrEqual(WINDOW_MS);
    // The last error is the simulated one, redacted, unless the check ran before the previous test changed it.
    expect(['HTTP 500', 'HTTP 401: x-api-key [redacted] refused; Authorization: [redacted]']).toContainEqual(
      disabled.disabledReason!.split('; last error: ')[1],
    );
    expect(disabled.disabledReason!.split('; last error: ')[0]).toBe(
      `auto-disabled on ${disabledAt}: every delivery since ${exhaustedAt} ended exhausted and none succeeded for ` +
        `4 seconds (HUB_DESTINATION_DISABLE_AFTER); last success: ${disabled.health.lastSuccessAt}`,
    );
    expect(hub.logs.join('')).toContain('destination auto-disabled after its failure window');
    expect(hub.logs.join('')).not.toContain('hdr-secret-0123456');

    // One more check, then the others: recovering failed once but succeeded since; steady never failed.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await destination(recoveringId)).status).toBe('active');
    expect((await destination(steadyId)).status).toBe('active');

    const text = (await hub.http().get('/metrics').expect(200)).text;
    expect(metricLine(text, 'switchboard_destination_enabled', flipId)).toBe(
      `switchboard_destination_enabled{destination="${flipId}",name="flip",type="webhook"} 0`,
    );
    expect(metricLine(text, 'switchboard_destination_auto_disabled_total', flipId)).toBe(
      `switchboard_destination_auto_disabled_total{destination="${flipId}",name="flip",type="webhook"} 1`,
    );
    expect(metricLine(text, 'switchboard_destination_auto_disabled_total', recoveringId)).toBeUndefined();
  });

  it('creates no deliveries for a disabled destination, and will not replay into it', async () => {
    await send('r4');
    await send('r5');
    await waitFor(() => steady.requests.length === 5, { what: 'steady to receive r4 and r5' });
    expect(await deliveriesOf(flipId)).toHaveLength(3);
    const refused = await hub.api().post(`/api/destinations/${flipId}/replay-missed`).expect(409);
    expect(refused.body.message).toContain('"enabled": true');
  });

  it('re-enabling clears the reason and says what it missed; replay-missed delivers each missed event once', async () => {
    flip.fallback = { status: 200 };
    const reEnabled: Destination = (
      await hub.api().patch(`/api/destinations/${flipId}`).send({ enabled: true }).expect(200)
    ).body;
    expect(reEnabled).toMatchObject({
      status: 'active',
      disabledReason: null,
      disabledAt: null,
      missed: { count: 2, since: disabledAt },
    });
    // Not auto-disabled again for its old failures: re-enabling starts a new window.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await destination(flipId)).status).toBe('active');

    const before = flip.requests.length;
    const replayed = await hub.api().post(`/api/destinations/${flipId}/replay-missed`).expect(202);
    expect(replayed.body).toEqual({ count: 2 });
    await waitFor(() => flip.requests.length === before + 2, { what: 'flip to receive r4 and r5' });
    const missedIds = await canonicalIdsOf('r4', 'r5');
    expect(sentIds(flip).slice(before).sort()).toEqual(missedIds);

    // Again, and at once twice: nothing more is created or sent.
    const again = await Promise.all([1, 2].map(() => hub.api().post(`/api/destinations/${flipId}/replay-missed`)));
    expect(again.map((r) => [r.status, r.body.count])).toEqual([
      [202, 0],
      [202, 0],
    ]);
    expect((await destination(flipId)).missed).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a reconciler pass or more
    expect(flip.requests.length).toBe(before + 2);
    const delivered = await deliveriesOf(flipId, 'succeeded');
    expect(delivered.map((d) => d.canonicalEventId).filter((id) => missedIds.includes(id))).toHaveLength(2);
    // Each missed event went out exactly once, each under its own webhook-id.
    for (const id of missedIds) expect(sentIds(flip).filter((sent) => sent === id)).toHaveLength(1);
    expect(new Set(flip.requests.slice(before).map((r) => r.headers['webhook-id'])).size).toBe(2);
    expect((await destination(flipId)).health).toMatchObject({ backlog: 0, delivered24h: 4, failed24h: 1 });
  });

  it('an operator disabling records since when; what it was owed and what came meanwhile is replayed once', async () => {
    // r6 fails its first attempt and waits 2 s for the next: the operator disables the destination meanwhile.
    await hub
      .api()
      .patch(`/api/destinations/${flipId}`)
      .send({ retrySchedule: [0, 2] })
      .expect(200);
    flip.fallback = { status: 500, body: 'down again' };
    await send('r6');
    await waitFor(async () => (await deliveriesOf(flipId, 'retrying')).length === 1, { what: 'r6 to be retrying' });
    const disabled: Destination = (
      await hub.api().patch(`/api/destinations/${flipId}`).send({ enabled: false }).expect(200)
    ).body;
    expect(disabled).toMatchObject({ status: 'disabled', disabledAt: expect.any(String) });
    expect(disabled.disabledReason).toBe(`disabled by an operator on ${disabled.disabledAt}`);
    expect(disabled.missed).toBeUndefined();
    // Its next attempt finds the destination disabled and ends failed; r7 gets no delivery at all.
    await waitFor(async () => (await deliveriesOf(flipId, 'failed')).length === 1, { what: 'r6 to be cut off' });
    await send('r7');
    await waitFor(() => steady.requests.length === 7, { what: 'steady to receive r6 and r7' });

    flip.fallback = { status: 200 };
    const reEnabled: Destination = (
      await hub.api().patch(`/api/destinations/${flipId}`).send({ status: 'active' }).expect(200)
    ).body;
    expect(reEnabled.missed).toEqual({ count: 2, since: disabled.disabledAt });

    // Events after re-enabling are routed as usual and are not "missed".
    const before = flip.requests.length;
    await send('r8');
    await waitFor(() => flip.requests.length === before + 1, { what: 'flip to receive r8' });
    expect((await hub.api().post(`/api/destinations/${flipId}/replay-missed`).expect(202)).body).toEqual({ count: 2 });
    await waitFor(() => flip.requests.length === before + 3, { what: 'flip to receive r6 and r7' });
    expect((await hub.api().post(`/api/destinations/${flipId}/replay-missed`).expect(202)).body).toEqual({ count: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(sentIds(flip).slice(before).sort()).toEqual(await canonicalIdsOf('r6', 'r7', 'r8'));
    // r6 went out once more under its own webhook-id: the same delivery, now succeeded.
    const r6 = (await canonicalIdsOf('r6'))[0];
    const r6Requests = flip.requests.filter((r) => (JSON.parse(r.body) as { id: string }).id === r6);
    expect(r6Requests).toHaveLength(2);
    expect(new Set(r6Requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect((await deliveriesOf(flipId, 'failed')).length).toBe(0);
  });

  it('refuses enabled and status that contradict each other', async () => {
    const refused = await hub
      .api()
      .patch(`/api/destinations/${flipId}`)
      .send({ enabled: true, status: 'disabled' })
      .expect(400);
    expect(refused.body.message).toContain('contradicts');
  });

  it('documents health, missed and replay-missed in OpenAPI', async () => {
    const doc = (await hub.http().get('/docs-json').expect(200)).body;
    const replay = doc.paths['/api/destinations/{id}/replay-missed'].post;
    expect(replay.summary).toBeTruthy();
    expect(replay.responses['202'].content['application/json'].schema.$ref).toMatch(/ReplayMissedResult$/);
    const view = doc.components.schemas.DestinationView;
    expect(view.properties.health.allOf ?? [view.properties.health]).toContainEqual({
      $ref: '#/components/schemas/DestinationHealthView',
    });
    expect(Object.keys(doc.components.schemas.DestinationHealthView.properties).sort()).toEqual(
      ['backlog', 'delivered24h', 'failed24h', 'lastError', 'lastFailureAt', 'lastSuccessAt', 'successRate'].sort(),
    );
    expect(doc.paths['/api/destinations/{id}'].patch.responses['200'].content['application/json'].schema.$ref).toMatch(
      /DestinationView$/,
    );
  });
});

/** The shipped default window, 5 days, with the delivery's timestamps moved back to simulate the days passing. */
describe('destination failure window, shipped default', () => {
  let hub: TestHub;
  let down: Sink;

  beforeAll(async () => {
    hub = await startHub();
    down = await new Sink().start();
    down.fallback = { status: 503 };
  });

  afterAll(async () => {
    await hub?.close();
    await down?.stop();
  });

  it('disables after 5 days of only exhausted deliveries, not after 4', async () => {
    expect(hub.config.destinationDisableAfterMs).toBe(5 * 24 * 3600 * 1000);
    const source = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201))
      .body.id;
    const id = (
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'down', type: 'webhook', url: down.url, eventTypes: ['activity.*'] })
        .expect(201)
    ).body.id;
    await postSalesAsk(hub, source, 'rec_down');
    await waitFor(
      async () =>
        (await hub.sql(`SELECT 1 FROM delivery WHERE destination_id = $1 AND status = 'exhausted'`, [id])).length,
      { what: 'the delivery to be exhausted' },
    );
    const check = hub.app.get(DestinationHealthService);
    const age = (hours: number) =>
      hub.sql(`UPDATE delivery SET updated_at = now() - make_interval(hours => $2) WHERE destination_id = $1`, [
        id,
        hours,
      ]);

    await age(4 * 24);
    expect(await check.disableFailing()).toEqual([]);
    expect((await hub.api().get(`/api/destinations/${id}`).expect(200)).body.status).toBe('active');

    await age(5 * 24 + 1);
    expect(await check.disableFailing()).toEqual([id]);
    const shown = (await hub.api().get(`/api/destinations/${id}`).expect(200)).body;
    expect(shown.status).toBe('disabled');
    expect(shown.disabledReason).toMatch(
      /none succeeded for 5 days \(HUB_DESTINATION_DISABLE_AFTER\); last success: never; last error: HTTP 503$/,
    );
  });
});
