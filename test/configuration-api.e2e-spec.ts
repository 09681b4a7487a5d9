import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { CANONICAL_TYPES } from '../src/canonical/cloud-event';
import { RetentionService } from '../src/retention/retention.service';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

/** Issue 9, "Configuration that tells the truth": effective verification, canonical types, archive, retention. */
describe('configuration API e2e', () => {
  let hub: TestHub;
  let sink: Sink;

  beforeAll(async () => {
    hub = await startHub();
    sink = await new Sink().start();
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  /** An AskElephant source, a webhook destination, and one event delivered through them. */
  async function deliveredEvent(): Promise<{ sourceId: string; destinationId: string; eventId: string }> {
    const secret = whsec();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'AE', connector: 'askelephant', secrets: [secret] })
      .expect(201);
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'sink', type: 'webhook', url: sink.url, eventTypes: ['*'] })
      .expect(201);
    const body = sample('askelephant', 'v1.contact.created.json');
    const accepted = await hub
      .http()
      .post(`/hooks/${source.body.id}`)
      .set(svixHeaders(secret, body))
      .send(body.toString())
      .expect(202);
    await waitFor(
      async () => {
        const detail = await hub.api().get(`/api/events/${accepted.body.id}`);
        return (detail.body.deliveries as { destinationId: string; status: string }[] | undefined)?.some(
          (d) => d.destinationId === destination.body.id && d.status === 'succeeded',
        );
      },
      { what: 'the delivery to succeed' },
    );
    return { sourceId: source.body.id, destinationId: destination.body.id, eventId: accepted.body.id };
  }

  it.each([
    ['get', '/api/canonical'],
    ['post', `/api/sources/src_${'A'.repeat(22)}/purge?confirm=true`],
    ['post', `/api/destinations/dst_${'A'.repeat(22)}/purge?confirm=true`],
    ['get', '/api/sources?archived=true'],
    ['get', '/api/destinations?archived=true'],
  ] as const)('%s %s answers 401 without the API key', async (method, path) => {
    await hub.http()[method](path).expect(401);
    await hub.http()[method](path).set('authorization', 'Bearer wrong-key-0123456789abcdef').expect(401);
  });

  describe('sources', () => {
    it('show the verification ingest really applies: scheme, headers, tolerance', async () => {
      const askelephant = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AE', connector: 'askelephant', secrets: [whsec()], verification: { toleranceSeconds: 600 } })
        .expect(201);
      expect(askelephant.body.verification).toEqual({ toleranceSeconds: 600 });
      expect(askelephant.body.effectiveVerification).toMatchObject({
        scheme: 'standard-webhooks',
        toleranceSeconds: 600,
        secretsRequired: true,
      });
      expect(askelephant.body.effectiveVerification.headers.join(' ')).toContain('webhook-signature');

      const asan = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'Asan', connector: 'asan', secrets: ['s3cret'] });
      expect(asan.status).toBe(201);
      expect(asan.body.effectiveVerification).toEqual({
        scheme: 'hmac-sha256',
        headers: ['X-Asan-Signature'],
        secretsRequired: true,
        secretFormat: expect.any(String),
      });

      const salescaling = await hub
        .api()
        .post('/api/sources')
        .send({
          name: 'Salescaling signed',
          connector: 'salescaling',
          secrets: ['tok'],
          verification: { scheme: 'hmac-sha256', header: 'X-Sig' },
        })
        .expect(201);
      const reread = await hub.api().get(`/api/sources/${salescaling.body.id}`).expect(200);
      expect(reread.body.effectiveVerification).toMatchObject({ scheme: 'hmac-sha256', headers: ['X-Sig'] });
      expect(JSON.stringify(reread.body)).not.toContain('tok"');

      const salesask = await hub.api().post('/api/sources').send({ name: 'SA', connector: 'salesask' }).expect(201);
      expect(salesask.body.effectiveVerification).toEqual({ scheme: 'url-token', headers: [], secretsRequired: false });
    });

    it('refuse secrets for a url-token source with a 400 that says why, on create and on update', async () => {
      const created = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'SA', connector: 'salesask', secrets: ['ignored-token'] })
        .expect(400);
      expect(created.body.message).toMatch(/url-token/);
      expect(created.body.message).toMatch(/Remove "secrets"/);

      const source = await hub.api().post('/api/sources').send({ name: 'SA', connector: 'salesask' }).expect(201);
      const patched = await hub
        .api()
        .patch(`/api/sources/${source.body.id}`)
        .send({ secrets: ['ignored-token'] })
        .expect(400);
      expect(patched.body.message).toMatch(/url-token/);
      // Other changes still go through, and an empty list is no secret.
      await hub.api().patch(`/api/sources/${source.body.id}`).send({ name: 'SA 2', secrets: [] }).expect(200);
    });
  });

  describe('canonical types', () => {
    it('GET /api/canonical lists every type with the JSON Schema of its data', async () => {
      await hub.http().get('/api/canonical').expect(401);
      const response = await hub.api().get('/api/canonical').expect(200);
      expect(response.body.map((entry: { type: string }) => entry.type)).toEqual([...CANONICAL_TYPES]);
      for (const entry of response.body) {
        expect(entry.schema).toMatchObject({ type: 'object', properties: expect.any(Object) });
      }
    });

    it("a type's schema accepts the data the pipeline produced for it and refuses broken data", async () => {
      const { body: catalogue } = await hub.api().get('/api/canonical').expect(200);
      const ajv = addFormats(new Ajv({ allErrors: true }));
      const schemaOf = (type: string) =>
        ajv.compile((catalogue as { type: string; schema: object }[]).find((e) => e.type === type)!.schema);
      const secret = whsec();
      const source = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AE canon', connector: 'askelephant', secrets: [secret] })
        .expect(201);
      const produced = new Set<string>();
      for (const file of ['v1.engagement.created.json', 'v1.contact.created.json', 'v1.company.created.json']) {
        const body = sample('askelephant', file);
        const accepted = await hub
          .http()
          .post(`/hooks/${source.body.id}`)
          .set(svixHeaders(secret, body))
          .send(body.toString())
          .expect(202);
        const detail = await waitFor(
          async () => {
            const r = await hub.api().get(`/api/events/${accepted.body.id}`);
            return r.body.status === 'normalized' && r.body;
          },
          { what: `${file} normalised` },
        );
        for (const event of detail.canonical as { type: string; data: object }[]) {
          const validate = schemaOf(event.type);
          expect({ type: event.type, valid: validate(event.data), errors: validate.errors ?? null }).toEqual({
            type: event.type,
            valid: true,
            errors: null,
          });
          expect(schemaOf(event.type)({ ...event.data, notAField: 1 })).toBe(false);
          produced.add(event.type.split('.')[0]);
        }
      }
      expect([...produced].sort()).toEqual(expect.arrayContaining(['activity', 'company', 'contact']));
    });

    it('a destination whose eventTypes match no canonical type is refused with the list of types', async () => {
      const refused = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'nothing', type: 'webhook', url: 'http://127.0.0.1:9/x', eventTypes: ['activity.nothing'] })
        .expect(400);
      expect(refused.body.message).toContain('"activity.nothing"');
      for (const type of CANONICAL_TYPES) expect(refused.body.message).toContain(type);

      const ok = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'contacts', type: 'webhook', url: 'http://127.0.0.1:9/x', eventTypes: ['contact.*'] })
        .expect(201);
      const patched = await hub
        .api()
        .patch(`/api/destinations/${ok.body.id}`)
        .send({ eventTypes: ['contact.*', 'contacts.created'] })
        .expect(400);
      expect(patched.body.message).toContain('"contacts.created"');
      expect(patched.body.message).not.toContain('"contact.*"');
    });
  });

  describe('deleting archives; purging is separate and explicit', () => {
    it('a deleted source stops accepting, leaves the list, and its history stays readable', async () => {
      const { sourceId, eventId } = await deliveredEvent();
      await hub.api().delete(`/api/sources/${sourceId}`).expect(204);
      await hub.api().delete(`/api/sources/${sourceId}`).expect(204);

      const archived = await hub.api().get(`/api/sources/${sourceId}`).expect(200);
      expect(archived.body).toMatchObject({ id: sourceId, enabled: false, archivedAt: expect.any(String) });
      const listed = await hub.api().get('/api/sources').expect(200);
      expect(listed.body.map((s: { id: string }) => s.id)).not.toContain(sourceId);
      const all = await hub.api().get('/api/sources?archived=true').expect(200);
      expect(all.body.map((s: { id: string }) => s.id)).toContain(sourceId);

      const body = sample('askelephant', 'v1.contact.updated.json');
      await hub.http().post(`/hooks/${sourceId}`).set(svixHeaders(whsec(), body)).send(body.toString()).expect(404);
      const refused = await hub.api().patch(`/api/sources/${sourceId}`).send({ enabled: true }).expect(409);
      expect(refused.body.message).toMatch(/archived/);

      const detail = await hub.api().get(`/api/events/${eventId}`).expect(200);
      expect(detail.body.sourceId).toBe(sourceId);
      expect(detail.body.canonical.length).toBeGreaterThan(0);
      expect(detail.body.deliveries[0].attempts_log.length).toBeGreaterThan(0);
    });

    it('a deleted destination receives nothing more, and its deliveries stay readable', async () => {
      const { destinationId, eventId } = await deliveredEvent();
      await hub.api().delete(`/api/destinations/${destinationId}`).expect(204);
      const archived = await hub.api().get(`/api/destinations/${destinationId}`).expect(200);
      expect(archived.body).toMatchObject({ status: 'disabled', archivedAt: expect.any(String) });
      const listed = await hub.api().get('/api/destinations').expect(200);
      expect(listed.body.map((d: { id: string }) => d.id)).not.toContain(destinationId);
      const all = await hub.api().get('/api/destinations?archived=true').expect(200);
      expect(all.body.map((d: { id: string }) => d.id)).toContain(destinationId);
      await hub.api().patch(`/api/destinations/${destinationId}`).send({ status: 'active' }).expect(409);

      const detail = await hub.api().get(`/api/events/${eventId}`).expect(200);
      const delivery = (detail.body.deliveries as { destinationId: string; status: string }[]).find(
        (d) => d.destinationId === destinationId,
      );
      expect(delivery?.status).toBe('succeeded');
    });

    it('purging says what it deletes and needs ?confirm=true once there is history', async () => {
      const { sourceId, destinationId, eventId } = await deliveredEvent();

      const asked = await hub.api().post(`/api/destinations/${destinationId}/purge`).expect(409);
      expect(asked.body.message).toMatch(/deletes 1 deliveries, 1 attempts and 0 CRM id ledger entries/);
      const destinationPurge = await hub
        .api()
        .post(`/api/destinations/${destinationId}/purge?confirm=true`)
        .expect(200);
      expect(destinationPurge.body).toEqual({
        id: destinationId,
        purged: true,
        deleted: { deliveries: 1, attempts: 1, ledgerEntries: 0 },
      });
      await hub.api().get(`/api/destinations/${destinationId}`).expect(404);

      const sourceAsked = await hub.api().post(`/api/sources/${sourceId}/purge`).expect(409);
      expect(sourceAsked.body.message).toMatch(
        /deletes 1 events, \d+ canonical events, \d+ deliveries and \d+ attempts/,
      );
      await hub.api().get(`/api/events/${eventId}`).expect(200);
      const sourcePurge = await hub.api().post(`/api/sources/${sourceId}/purge?confirm=true`).expect(200);
      expect(sourcePurge.body).toMatchObject({ id: sourceId, purged: true, deleted: { events: 1 } });
      await hub.api().get(`/api/sources/${sourceId}`).expect(404);
      await hub.api().get(`/api/events/${eventId}`).expect(404);

      const empty = await hub.api().post('/api/sources').send({ name: 'SA', connector: 'salesask' }).expect(201);
      await hub.api().post(`/api/sources/${empty.body.id}/purge`).expect(200);
    });
  });

  describe('retention', () => {
    it('purges payloads and attempts older than HUB_RETENTION_DAYS in batches and leaves recent ones', async () => {
      const old = await deliveredEvent();
      const recent = await deliveredEvent();
      // Six more old events cloned in SQL, one still waiting for normalisation (kept): with the delivered one, six
      // payloads to purge, which batches of 2 take in 4 statements (2, 2, 2, then 0 says it is done).
      await hub.sql(
        `INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, received_at, headers, body, status)
         SELECT 'inb_clone' || n, source_id, 'clone:' || n, vendor_event_type, received_at, headers, body,
                CASE WHEN n = 6 THEN 'received' ELSE 'failed' END
         FROM inbound_event, generate_series(1, 6) AS n WHERE id = $1`,
        [old.eventId],
      );
      const ids = [old.eventId, ...[1, 2, 3, 4, 5, 6].map((n) => `inb_clone${n}`)];
      await hub.sql(`UPDATE inbound_event SET received_at = now() - interval '31 days' WHERE id = ANY($1)`, [ids]);
      await hub.sql(
        `UPDATE delivery_attempt SET started_at = now() - interval '31 days' WHERE delivery_id IN (
           SELECT d.id FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
           WHERE c.inbound_event_id = $1)`,
        [old.eventId],
      );
      const [{ count: oldAttempts }] = await hub.sql<{ count: number }>(
        `SELECT count(*)::int AS count FROM delivery_attempt WHERE started_at < now() - interval '30 days'`,
      );
      expect(oldAttempts).toBeGreaterThan(0);

      const sut = hub.app.get(RetentionService);
      const pass = await sut.purge(new Date(), 2);
      // Payload batches, attempt batches (each ending on a short one), and one empty pass over the rejections.
      expect(pass).toEqual({
        payloads: 6,
        attempts: oldAttempts,
        rejections: 0,
        statements: 4 + Math.floor(oldAttempts / 2) + 1 + 1,
      });

      const rows = await hub.sql<{ id: string; size: number; headers: object; purged: boolean }>(
        `SELECT id, octet_length(body) AS size, headers, purged_at IS NOT NULL AS purged FROM inbound_event
         WHERE id = ANY($1) ORDER BY id`,
        [[...ids, recent.eventId]],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const id of ids.filter((id) => id !== 'inb_clone6')) {
        expect(byId.get(id)).toEqual({ id, size: 0, headers: {}, purged: true });
      }
      expect(byId.get('inb_clone6')).toMatchObject({ purged: false });
      expect(byId.get('inb_clone6')!.size).toBeGreaterThan(0);
      expect(byId.get(recent.eventId)).toMatchObject({ purged: false });
      expect(byId.get(recent.eventId)!.size).toBeGreaterThan(0);

      // The purged event is still there: its canonical output and delivery, without the payload or old attempts.
      const detail = await hub.api().get(`/api/events/${old.eventId}`).expect(200);
      expect(detail.body).toMatchObject({ status: 'normalized', purgedAt: expect.any(String) });
      expect(detail.body.canonical.length).toBeGreaterThan(0);
      const ownDelivery = (body: { deliveries: { destinationId: string }[] }, destinationId: string) =>
        body.deliveries.find((d) => d.destinationId === destinationId);
      expect(ownDelivery(detail.body, old.destinationId)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        attempts_log: [],
      });
      // With no payload there is nothing to map: re-normalising it is refused, and the event stays as it was.
      const refused = await hub.api().post(`/api/events/${old.eventId}/renormalize`).expect(409);
      expect(refused.body.message).toMatch(/payload was purged by retention/);
      const after = await hub.api().get(`/api/events/${old.eventId}`).expect(200);
      expect(after.body.status).toBe('normalized');
      const kept = await hub.api().get(`/api/events/${recent.eventId}`).expect(200);
      expect(ownDelivery(kept.body, recent.destinationId)).toMatchObject({
        status: 'succeeded',
        attempts_log: [expect.objectContaining({ outcome: 'succeeded' })],
      });
      expect(kept.body.payload).toMatchObject({ type: 'v1.contact.created' });

      // A second pass finds nothing more, unless the reconciler has meanwhile normalised the event that was waiting:
      // then that one is due too, and only once it has left `received`.
      const second = await sut.purge(new Date(), 2);
      const [waiting] = await hub.sql<{ status: string; purged: boolean }>(
        `SELECT status, purged_at IS NOT NULL AS purged FROM inbound_event WHERE id = 'inb_clone6'`,
      );
      expect(second).toEqual({ payloads: waiting.purged ? 1 : 0, attempts: 0, rejections: 0, statements: 3 });
      if (waiting.purged) expect(waiting.status).not.toBe('received');
    });
  });
});
