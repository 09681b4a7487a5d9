import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { VerificationRejectionService } from '../src/ingest/verification-rejection.service';
import { RetentionService } from '../src/retention/retention.service';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { salesAskRecording, sample, svixHeaders, whsec } from './helpers/vendors';

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

interface Group {
  id: string;
  kind: string;
  title: string;
  key: Record<string, string>;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  sampleIds: string[];
  action: { kind: string; label: string } | null;
}

/** What a vendor's body carries that must never reach the rejection table. */
const BODY_MARKER = 'BODY-MARKER-4f1c9a';

/**
 * Issue 9, grouped issues: rejections at /hooks recorded (no body, bounded, answers unchanged), GET /api/issues with
 * delivery, mapping and verification groups (counts, sample ids, first and last seen), the bulk actions, 404 and 409,
 * and GET /api/stats, against a real hub, real receivers on loopback and a HubSpot stand-in.
 */
describe('issues API e2e', () => {
  let hub: TestHub;
  let ok: Sink;
  let down: Sink;
  let crm: Sink;
  const aeSecret = whsec();
  let askElephant: string;
  let salesAsk: string;
  let downDestination: string;
  let crmDestination: string;
  const recordings: string[] = [];
  const contacts: string[] = [];
  const mysteries: string[] = [];

  const hook = (id: string) => hub.http().post(`/hooks/${id}`);
  const issues = async () => ((await hub.api().get('/api/issues').expect(200)).body as { groups: Group[] }).groups;
  const groupOf = (groups: Group[], kind: string, key: Record<string, string>) =>
    groups.find((g) => g.kind === kind && Object.entries(key).every(([k, v]) => g.key[k] === v));
  const deliveriesTo = (destinationId: string) =>
    hub.sql<{ id: string; status: string; updated_at: Date }>(
      'SELECT id, status, updated_at FROM delivery WHERE destination_id = $1 ORDER BY id',
      [destinationId],
    );

  function contactBody(): Buffer {
    const event = JSON.parse(sample('askelephant', 'v1.contact.created.json').toString());
    event.id = `evt_${randomBytes(8).toString('hex')}`;
    return Buffer.from(JSON.stringify(event));
  }

  beforeAll(async () => {
    hub = await startHub({ LOG_LEVEL: 'error' });
    ok = await new Sink().start();
    down = await new Sink().start();
    down.fallback = { status: 500, body: 'down' };
    crm = await new Sink().start();
    crm.fallback = {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        status: 'error',
        message: 'Property values were not valid',
        category: 'VALIDATION_ERROR',
      }),
    };
    const create = async (path: string, body: object) =>
      (await hub.api().post(path).send(body).expect(201)).body.id as string;
    askElephant = await create('/api/sources', { name: 'AE prod', connector: 'askelephant', secrets: [aeSecret] });
    salesAsk = await create('/api/sources', { name: 'Sales Ask prod', connector: 'salesask' });
    await create('/api/destinations', { name: 'Everything', type: 'webhook', url: ok.url, eventTypes: ['*'] });
    downDestination = await create('/api/destinations', {
      name: 'Down sink',
      type: 'webhook',
      url: down.url,
      eventTypes: ['activity.*'],
    });
    crmDestination = await create('/api/destinations', {
      name: 'HubSpot prod',
      type: 'hubspot',
      config: { baseUrl: new URL(crm.url).origin, token: 'pat-test' },
      eventTypes: ['contact.*'],
    });

    for (const n of [1, 2, 3]) {
      const body = salesAskRecording(`rec_issue_${n}`);
      recordings.push(
        (await hook(salesAsk).set('content-type', 'application/json').send(body.toString()).expect(202)).body.id,
      );
    }
    for (let n = 0; n < 2; n++) {
      const body = contactBody();
      contacts.push(
        (await hook(askElephant).set(svixHeaders(aeSecret, body)).send(body.toString()).expect(202)).body.id,
      );
    }
    for (const n of [1, 2]) {
      const body = JSON.stringify({ event: 'recording.mystery', data: { id: `mystery_${n}` } });
      mysteries.push(
        (await hook(salesAsk).set('content-type', 'application/json').send(body.toString()).expect(202)).body.id,
      );
    }
    await waitFor(
      async () => {
        const [down3, crm2] = [await deliveriesTo(downDestination), await deliveriesTo(crmDestination)];
        return (
          down3.length === 3 &&
          down3.every((d) => d.status === 'exhausted') &&
          crm2.length === 2 &&
          crm2.every((d) => d.status === 'failed')
        );
      },
      { what: 'the down sink exhausted and HubSpot failed', timeoutMs: 30_000 },
    );
    await waitFor(
      async () =>
        (
          await hub.sql<{ n: number }>(
            `SELECT count(*)::int AS n FROM inbound_event WHERE id = ANY($1) AND status = 'failed'`,
            [mysteries],
          )
        )[0].n === 2,
      { what: 'the mystery events to fail normalisation' },
    );
  });

  afterAll(async () => {
    if (process.env.DEBUG_LOGS) console.log(hub.logs.join(''));
    await Promise.all([ok?.stop(), down?.stop(), crm?.stop()]);
    await hub?.close();
  });

  describe('verification rejections', () => {
    it('records each rejection of a known source with status, reason and correlation id, never the body', async () => {
      const body = Buffer.from(JSON.stringify({ ...JSON.parse(contactBody().toString()), note: BODY_MARKER }));
      const good = svixHeaders(aeSecret, body);
      const forged = { ...good, 'svix-signature': `v1,${randomBytes(32).toString('base64')}` };
      const answers = [
        await hook(askElephant).set(forged).send(body.toString()),
        await hook(askElephant)
          .set({ ...good, 'svix-signature': forged['svix-signature'] })
          .send(body.toString()),
        await hook(askElephant)
          .set(svixHeaders(aeSecret, body, new Date(Date.now() - 3600_000)))
          .send(body.toString()),
        await hook(salesAsk).set('content-type', 'text/plain').send(BODY_MARKER),
        await hook(salesAsk).set('content-type', 'application/json').send(`{"event": "${BODY_MARKER}"`),
      ];
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 415, 400]);
      for (const answer of answers) {
        // The vendor's answer is the hub's one error shape, as before rejections were recorded.
        expect(Object.keys(answer.body).sort()).toEqual(['correlationId', 'error', 'message', 'statusCode']);
      }
      expect(answers[0].body).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Signature does not match',
        correlationId: answers[0].headers['x-correlation-id'],
      });
      // An unknown source is not a source's issue: 404, nothing recorded.
      await hook(`src_${'x'.repeat(22)}`)
        .set('content-type', 'application/json')
        .send('{}')
        .expect(404);

      const rows = await waitFor(
        async () => {
          const found = await hub.sql<Record<string, unknown>>('SELECT * FROM verification_rejection ORDER BY at, id');
          return found.length === 5 && found;
        },
        { what: 'five rejections recorded' },
      );
      // Each answer's row, matched by its correlation id. Rows are written in the background after each answer, so
      // two written close together may commit in either order.
      const expected = [
        [askElephant, 401, 'bad_signature'],
        [askElephant, 401, 'bad_signature'],
        [askElephant, 401, 'stale_timestamp'],
        [salesAsk, 415, 'unsupported_media_type'],
        [salesAsk, 400, 'malformed_json'],
      ].map((row, i) => [answers[i].headers['x-correlation-id'], ...row]);
      const byCorrelation = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
      expect(rows.map((r) => [r.correlation_id, r.source_id, r.status, r.reason]).sort(byCorrelation)).toEqual(
        expected.sort(byCorrelation),
      );
      const columns = await hub.sql<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'verification_rejection'`,
      );
      expect(columns.map((c) => c.column_name).sort()).toEqual(
        ['at', 'correlation_id', 'id', 'message', 'reason', 'source_id', 'status'].sort(),
      );
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(BODY_MARKER);
      expect(stored).not.toContain(forged['svix-signature']);
      expect(stored).not.toContain(good['svix-signature']);
      expect(stored).not.toContain(aeSecret);
    });

    it('shows rejections of the last 24 h grouped by source and reason, with no bulk action (409)', async () => {
      const rows = await hub.sql<{ id: string; at: Date }>(
        `SELECT id, at FROM verification_rejection WHERE source_id = $1 AND reason = 'bad_signature' ORDER BY at`,
        [askElephant],
      );
      const groups = await issues();
      const badSignature = groupOf(groups, 'verification', { sourceId: askElephant, reason: 'bad_signature' })!;
      expect(badSignature).toMatchObject({
        title: expect.stringContaining('AE prod: 2 deliveries refused, 401 bad_signature'),
        key: { sourceId: askElephant, reason: 'bad_signature' },
        count: 2,
        firstSeenAt: rows[0].at.toISOString(),
        lastSeenAt: rows[1].at.toISOString(),
        action: null,
      });
      expect([...badSignature.sampleIds].sort()).toEqual(rows.map((r) => r.id).sort());
      expect(groupOf(groups, 'verification', { sourceId: askElephant, reason: 'stale_timestamp' })?.count).toBe(1);
      expect(groupOf(groups, 'verification', { sourceId: salesAsk, reason: 'unsupported_media_type' })?.count).toBe(1);
      expect(groupOf(groups, 'verification', { sourceId: salesAsk, reason: 'malformed_json' })?.count).toBe(1);

      await hub.api().get(`/api/issues/${badSignature.id}`).expect(200, badSignature);
      const refused = await hub.api().post(`/api/issues/${badSignature.id}/action`).expect(409);
      expect(refused.body).toMatchObject({ statusCode: 409, message: expect.stringContaining('no bulk action') });

      // Older than 24 h: history, not a current issue.
      await hub.sql(
        `UPDATE verification_rejection SET at = now() - interval '25 hours' WHERE reason = 'stale_timestamp'`,
      );
      expect(groupOf(await issues(), 'verification', { reason: 'stale_timestamp' })).toBeUndefined();
    });

    it('keeps only the newest rows per source, trimmed every n-th rejection', async () => {
      const [{ id: bounded }] = await hub.sql<{ id: string }>(
        `INSERT INTO source (id, name, connector, secrets_sealed) VALUES ($1, 'bounded', 'asan', '') RETURNING id`,
        [`src_bounded${randomBytes(6).toString('hex')}`],
      );
      const sut = new VerificationRejectionService(hub.app.get(DataSource), pino({ level: 'silent' }), {
        perSource: 5,
        trimEvery: 3,
        maxInFlight: 4,
      });
      const count = async () =>
        (
          await hub.sql<{ n: number }>('SELECT count(*)::int AS n FROM verification_rejection WHERE source_id = $1', [
            bounded,
          ])
        )[0].n;
      for (let n = 1; n <= 12; n++) {
        await sut.record({ sourceId: bounded, status: 401, reason: 'bad_token', message: `try ${n}` });
        expect(await count()).toBeLessThanOrEqual(5 + 2);
      }
      // The 12th rejection trimmed: the newest five are left.
      const left = await hub.sql<{ message: string }>(
        'SELECT message FROM verification_rejection WHERE source_id = $1 ORDER BY at, id',
        [bounded],
      );
      expect(left.map((r) => r.message)).toEqual(['try 8', 'try 9', 'try 10', 'try 11', 'try 12']);
    });

    it('purges rejections older than HUB_RETENTION_DAYS with the other retention work', async () => {
      await hub.sql(
        `INSERT INTO verification_rejection (id, source_id, status, reason, message, at)
         VALUES ('rej_old', $1, 401, 'bad_signature', 'old', now() - interval '40 days')`,
        [askElephant],
      );
      const pass = await hub.app.get(RetentionService).purge();
      expect(pass.rejections).toBe(1);
      expect(await hub.sql(`SELECT id FROM verification_rejection WHERE id = 'rej_old'`)).toEqual([]);
      expect((await hub.sql('SELECT id FROM verification_rejection WHERE source_id = $1', [askElephant])).length).toBe(
        3,
      );
    });

    it('answers the same 401 at once while the table is locked or missing: recording never delays or changes it', async () => {
      const admin = new Client({ connectionString: `${SERVER_URL}/${hub.databaseName}` });
      await admin.connect();
      const before = (await hub.sql<{ n: number }>('SELECT count(*)::int AS n FROM verification_rejection'))[0].n;
      try {
        await admin.query('BEGIN');
        await admin.query('LOCK TABLE verification_rejection IN ACCESS EXCLUSIVE MODE');
        const body = contactBody();
        const forged = { ...svixHeaders(aeSecret, body), 'svix-signature': 'v1,AAAA' };
        for (let n = 0; n < 6; n++) {
          const answer = await hook(askElephant).set(forged).send(body.toString()).expect(401);
          expect(answer.body).toMatchObject({ statusCode: 401, message: 'Signature does not match' });
        }
        await admin.query('COMMIT');
        // Four inserts were waiting on the lock (the in-flight bound); the other two were dropped, not queued.
        await waitFor(
          async () =>
            (await hub.sql<{ n: number }>('SELECT count(*)::int AS n FROM verification_rejection'))[0].n === before + 4,
          { what: 'the four waiting inserts' },
        );

        await admin.query('ALTER TABLE verification_rejection RENAME TO verification_rejection_away');
        const answer = await hook(askElephant).set(forged).send(body.toString()).expect(401);
        expect(answer.body).toMatchObject({ statusCode: 401, message: 'Signature does not match' });
        // Ingest itself is unaffected (a tag event: it adds to no group the tests below count).
        const tag = JSON.parse(sample('askelephant', 'v1.tag.created.json').toString());
        const accepted = Buffer.from(JSON.stringify({ ...tag, id: `evt_${randomBytes(8).toString('hex')}` }));
        await hook(askElephant).set(svixHeaders(aeSecret, accepted)).send(accepted.toString()).expect(202);
      } finally {
        await admin.query('ROLLBACK').catch(() => undefined);
        await admin.query('ALTER TABLE IF EXISTS verification_rejection_away RENAME TO verification_rejection');
        await admin.end();
      }
    });
  });

  describe('delivery and mapping groups', () => {
    it('groups failing deliveries by destination, status and HTTP status or CRM error code', async () => {
      const groups = await issues();
      const downRows = await deliveriesTo(downDestination);
      const downGroup = groupOf(groups, 'delivery', { destinationId: downDestination })!;
      expect(downGroup).toMatchObject({
        title: 'Down sink: exhausted, HTTP 500',
        key: { destinationId: downDestination, status: 'exhausted', code: 'HTTP 500' },
        count: 3,
        action: { kind: 'retry', label: 'Retry 3 deliveries' },
      });
      expect([...downGroup.sampleIds].sort()).toEqual(downRows.map((d) => d.id).sort());
      const times = downRows.map((d) => d.updated_at.getTime()).sort();
      expect(new Date(downGroup.firstSeenAt).getTime()).toBe(times[0]);
      expect(new Date(downGroup.lastSeenAt).getTime()).toBe(times[2]);

      const crmGroup = groupOf(groups, 'delivery', { destinationId: crmDestination })!;
      expect(crmGroup).toMatchObject({
        title: 'HubSpot prod: failed, HTTP 400 VALIDATION_ERROR',
        key: { destinationId: crmDestination, status: 'failed', code: 'HTTP 400 VALIDATION_ERROR' },
        count: 2,
        action: { kind: 'retry', label: 'Retry 2 deliveries' },
      });
      expect(groups.filter((g) => g.kind === 'delivery')).toHaveLength(2);
    });

    it('groups mapping failures by connector, event type and reason, with the inbound event ids', async () => {
      const group = groupOf(await issues(), 'mapping', { connector: 'salesask', eventType: 'recording.mystery' })!;
      expect(group).toMatchObject({
        kind: 'mapping',
        key: { reason: expect.stringContaining('No mapping for salesask/recording.mystery') },
        count: 2,
        action: { kind: 'renormalize', label: 'Re-normalise 2 events' },
      });
      expect([...group.sampleIds].sort()).toEqual([...mysteries].sort());
      expect(new Date(group.firstSeenAt) <= new Date(group.lastSeenAt)).toBe(true);

      // Re-normalising with the mapping still missing: both go through it again and fail again, the same group.
      const acted = await hub.api().post(`/api/issues/${group.id}/action`).expect(202);
      expect(acted.body).toEqual({ kind: 'renormalize', count: 2 });
      const again = await waitFor(
        async () => {
          const found = groupOf(await issues(), 'mapping', { eventType: 'recording.mystery' });
          return found && found.count === 2 && new Date(found.lastSeenAt) > new Date(group.lastSeenAt) && found;
        },
        { what: 'the mystery events to fail again' },
      );
      expect(again.id).toBe(group.id);
    });

    it('answers 404 for an id that is no group, or a group with nothing failing any more', async () => {
      await hub.api().get('/api/issues/not-a-group').expect(404);
      await hub.api().post('/api/issues/not-a-group/action').expect(404);
      // Shaped like an id, but no group failing now has it.
      const stale = `delivery.${'A'.repeat(22)}`;
      const answer = await hub.api().get(`/api/issues/${stale}`).expect(404);
      expect(answer.body).toMatchObject({ statusCode: 404, error: 'Not Found', correlationId: expect.any(String) });
      await hub.api().post(`/api/issues/${stale}/action`).expect(404);
      await hub
        .api()
        .get(`/api/issues/nokind.${'A'.repeat(22)}`)
        .expect(404);
    });

    it('retries a delivery group in bulk: each delivery again under its webhook-id, then the group is gone', async () => {
      const group = groupOf(await issues(), 'delivery', { destinationId: downDestination })!;
      down.fallback = { status: 200, body: 'ok' };
      const before = down.requests.length;
      const acted = await hub.api().post(`/api/issues/${group.id}/action`).expect(202);
      expect(acted.body).toEqual({ kind: 'retry', count: 3 });
      await waitFor(async () => (await deliveriesTo(downDestination)).every((d) => d.status === 'succeeded'), {
        what: 'the retried deliveries to succeed',
      });
      await hub.api().get(`/api/issues/${group.id}`).expect(404);
      await hub.api().post(`/api/issues/${group.id}/action`).expect(404);
      expect(groupOf(await issues(), 'delivery', { destinationId: downDestination })).toBeUndefined();
      // Each delivery once more, under the webhook-id it failed with.
      const again = down.requests.slice(before).map((r) => String(r.headers['webhook-id']));
      expect([...again].sort()).toEqual([...group.sampleIds].sort());
    });

    it('refuses /api/issues and /api/stats without the API key', async () => {
      await hub.http().get('/api/issues').expect(401);
      await hub.http().get('/api/issues/x').expect(401);
      await hub.http().post('/api/issues/x/action').expect(401);
      await hub.http().get('/api/stats').expect(401);
    });
  });

  it('documents the routes in OpenAPI with response schemas and examples', async () => {
    const doc = (await hub.http().get('/docs-json').expect(200)).body;
    const ok = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content['application/json'].schema.$ref;
    expect(ok('/api/issues', 'get', '200')).toBe('#/components/schemas/IssueListView');
    expect(ok('/api/issues/{id}', 'get', '200')).toBe('#/components/schemas/IssueGroupView');
    expect(ok('/api/issues/{id}/action', 'post', '202')).toBe('#/components/schemas/IssueActionResult');
    expect(ok('/api/stats', 'get', '200')).toBe('#/components/schemas/StatsView');
    expect(Object.keys(doc.paths['/api/issues/{id}/action'].post.responses).sort()).toEqual([
      '202',
      '401',
      '404',
      '409',
      '503',
    ]);
    expect(doc.components.schemas.IssueGroupView.properties.title.example).toBe(
      'HubSpot prod: exhausted, HTTP 400 VALIDATION_ERROR',
    );
  });

  describe('GET /api/stats', () => {
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

    it('answers hour buckets per connector and per destination, oldest first, the last the current hour', async () => {
      const { body } = await hub.api().get('/api/stats?hours=3').expect(200);
      const hour = 3600_000;
      const to = new Date(body.to).getTime();
      expect(body.bucketSeconds).toBe(3600);
      expect(to - new Date(body.from).getTime()).toBe(3 * hour);
      expect(to % hour).toBe(0);
      expect(Date.now()).toBeLessThan(to);
      expect(Date.now()).toBeGreaterThanOrEqual(to - hour);

      const connector = (id: string) => body.connectors.find((c: { connector: string }) => c.connector === id);
      for (const row of body.connectors) {
        for (const series of [row.accepted, row.rejected, row.failed]) expect(series).toHaveLength(3);
      }
      const accepted = (await hub.sql<{ connector: string; n: number }>(
        `SELECT s.connector, count(*)::int AS n FROM inbound_event i JOIN source s ON s.id = i.source_id GROUP BY 1`,
      )) as { connector: string; n: number }[];
      const rejected = await hub.sql<{ source_id: string; n: number }>(
        `SELECT source_id, count(*)::int AS n FROM verification_rejection WHERE at > now() - interval '3 hours' GROUP BY 1`,
      );
      expect(sum(connector('salesask').accepted)).toBe(accepted.find((a) => a.connector === 'salesask')!.n);
      expect(sum(connector('askelephant').accepted)).toBe(accepted.find((a) => a.connector === 'askelephant')!.n);
      expect(sum(connector('salesask').failed)).toBe(2);
      expect(sum(connector('askelephant').failed)).toBe(0);
      expect(sum(connector('salesask').rejected)).toBe(rejected.find((r) => r.source_id === salesAsk)!.n);
      expect(sum(connector('askelephant').rejected)).toBe(rejected.find((r) => r.source_id === askElephant)!.n);

      const destination = (id: string) =>
        body.destinations.find((d: { destinationId: string }) => d.destinationId === id);
      expect(destination(downDestination)).toMatchObject({ name: 'Down sink', type: 'webhook' });
      expect(destination(downDestination).delivered).toHaveLength(3);
      expect(sum(destination(downDestination).delivered)).toBe(3);
      expect(sum(destination(downDestination).failed)).toBe(3);
      expect(sum(destination(crmDestination).delivered)).toBe(0);
      expect(sum(destination(crmDestination).failed)).toBe(2);
    });

    it('defaults to 24 buckets and refuses hours outside 1..168', async () => {
      const { body } = await hub.api().get('/api/stats').expect(200);
      expect(body.connectors[0].accepted).toHaveLength(24);
      expect(body.destinations[0].delivered).toHaveLength(24);
      await hub.api().get('/api/stats?hours=0').expect(400);
      await hub.api().get('/api/stats?hours=169').expect(400);
      await hub.api().get('/api/stats?hours=abc').expect(400);
    });
  });
});
