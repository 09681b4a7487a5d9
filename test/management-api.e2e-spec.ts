import { createHash } from 'node:crypto';
import { startHub, TEST_API_KEY, TestHub } from './helpers/hub';
import { sample, svixHeaders, whsec } from './helpers/vendors';

const errorBody = (statusCode: number, error: string) => ({
  statusCode,
  error,
  message: expect.any(String),
  correlationId: expect.any(String),
});

/** DESIGN §6/§7: the management API under /api (Bearer key), health, OpenAPI, and the one error shape. */
describe('management API e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  describe('authentication', () => {
    // Every /api route answering 401 without a valid key is proven over the router itself, so routes added by
    // any controller are covered: test/route-walk.e2e-spec.ts.

    it('names what is missing or wrong in the 401 message', async () => {
      const missing = await hub.http().get('/api/sources').expect(401);
      expect(missing.body.message).toMatch(/Bearer/);
      const wrong = await hub.http().get('/api/sources').set('authorization', 'Bearer nope-nope-nope-nope').expect(401);
      expect(wrong.body.message).toMatch(/Invalid API key/);
    });
  });

  describe('sources', () => {
    it('creates, lists, reads, updates and deletes a source without ever showing a secret', async () => {
      const secret = whsec();
      const created = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'AskElephant prod', connector: 'askelephant', secrets: [secret] })
        .expect(201);
      const id = created.body.id;
      expect(id).toMatch(/^src_[0-9A-Za-z]{22}$/);
      expect(created.body).toMatchObject({
        id,
        name: 'AskElephant prod',
        connector: 'askelephant',
        url: `${hub.baseUrl}/hooks/${id}`,
        secretsConfigured: 1,
        enabled: true,
      });
      expect(created.body).not.toHaveProperty('secrets');
      expect(JSON.stringify(created.body)).not.toContain(secret);
      expect(JSON.stringify(created.body)).not.toContain(secret.slice('whsec_'.length));

      const list = await hub.api().get('/api/sources').expect(200);
      expect(list.body.map((s: { id: string }) => s.id)).toContain(id);
      expect(JSON.stringify(list.body)).not.toContain(secret.slice('whsec_'.length));

      const one = await hub.api().get(`/api/sources/${id}`).expect(200);
      expect(one.body).toMatchObject({ id, url: `${hub.baseUrl}/hooks/${id}`, secretsConfigured: 1 });
      expect(JSON.stringify(one.body)).not.toContain(secret.slice('whsec_'.length));

      const second = whsec();
      const patched = await hub
        .api()
        .patch(`/api/sources/${id}`)
        .send({
          name: 'AskElephant renamed',
          secrets: [secret, second],
          verification: { toleranceSeconds: 600 },
          enabled: false,
        })
        .expect(200);
      expect(patched.body).toMatchObject({
        id,
        name: 'AskElephant renamed',
        secretsConfigured: 2,
        verification: { toleranceSeconds: 600 },
        enabled: false,
      });
      expect(JSON.stringify(patched.body)).not.toContain(second.slice('whsec_'.length));
      const reread = await hub.api().get(`/api/sources/${id}`).expect(200);
      expect(reread.body).toMatchObject({ name: 'AskElephant renamed', secretsConfigured: 2, enabled: false });

      // Deleting archives (issue 9; test/configuration-api.e2e-spec.ts); purging removes it for good.
      await hub.api().delete(`/api/sources/${id}`).expect(204);
      await hub.api().post(`/api/sources/${id}/purge`).expect(200);
      const gone = await hub.api().get(`/api/sources/${id}`).expect(404);
      expect(gone.body).toEqual(errorBody(404, 'Not Found'));
      await hub.api().delete(`/api/sources/${id}`).expect(404);
    });

    it('refuses an unknown connector with 400 listing the known connectors', async () => {
      const response = await hub.api().post('/api/sources').send({ name: 'x', connector: 'nosuchvendor' }).expect(400);
      expect(response.body).toEqual(errorBody(400, 'Bad Request'));
      expect(response.body.message).toContain('nosuchvendor');
      for (const known of ['askelephant', 'asan', 'salesask', 'salescaling', 'telephony']) {
        expect(response.body.message).toContain(known);
      }
    });

    it('refuses an AskElephant source without secrets, or with a secret that is not whsec_', async () => {
      const none = await hub.api().post('/api/sources').send({ name: 'x', connector: 'askelephant' }).expect(400);
      expect(none.body).toEqual(errorBody(400, 'Bad Request'));
      expect(none.body.message).toMatch(/whsec_/);
      const plain = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'x', connector: 'askelephant', secrets: ['just-a-plain-secret'] })
        .expect(400);
      expect(plain.body.message).toMatch(/whsec_/);
      expect(plain.body.message).not.toContain('just-a-plain-secret');
    });

    it('refuses an unknown body property with 400 (forbidNonWhitelisted)', async () => {
      const response = await hub
        .api()
        .post('/api/sources')
        .send({ name: 'x', connector: 'salesask', sneaky: true })
        .expect(400);
      expect(response.body).toEqual(errorBody(400, 'Bad Request'));
      expect(response.body.message).toMatch(/sneaky/);
    });

    it('runs a header-token source with a custom header end to end', async () => {
      const token = 'custom-token-abcdef123';
      const created = await hub
        .api()
        .post('/api/sources')
        .send({
          name: 'Telephony',
          connector: 'telephony',
          secrets: [token],
          verification: { header: 'X-Custom-Token' },
        })
        .expect(201);
      expect(created.body).toMatchObject({ verification: { header: 'X-Custom-Token' }, secretsConfigured: 1 });
      expect(JSON.stringify(created.body)).not.toContain(token);

      const body = sample('telephony', 'call_answered.json');
      // The default header name is not the one configured: refused.
      await hub
        .http()
        .post(`/hooks/${created.body.id}`)
        .set({ 'content-type': 'application/json', 'x-webhook-token': token })
        .send(body.toString())
        .expect(401);
      const accepted = await hub
        .http()
        .post(`/hooks/${created.body.id}`)
        .set({ 'content-type': 'application/json', 'x-custom-token': token })
        .send(body.toString())
        .expect(202);
      const [row] = await hub.sql<{ headers: Record<string, string> }>(
        'SELECT headers FROM inbound_event WHERE id = $1',
        [accepted.body.id],
      );
      expect(row.headers).not.toHaveProperty('x-custom-token');
    });
  });

  describe('destinations', () => {
    const target = 'http://127.0.0.1:9/x';

    it('generates a whsec_ secret when none is given, shows it once, and never again', async () => {
      const created = await hub
        .api()
        .post('/api/destinations')
        .send({
          name: 'warehouse',
          type: 'webhook',
          url: target,
          eventTypes: ['activity.*'],
          headers: { 'x-team': 'ops-secret-value' },
        })
        .expect(201);
      expect(created.body.id).toMatch(/^dst_/);
      expect(created.body.secret).toMatch(/^whsec_/);
      expect(created.body.headers).toEqual(['x-team']);
      expect(JSON.stringify(created.body)).not.toContain('ops-secret-value');
      const secret = created.body.secret as string;

      const one = await hub.api().get(`/api/destinations/${created.body.id}`).expect(200);
      expect(one.body).not.toHaveProperty('secret');
      expect(one.body).toMatchObject({
        url: target,
        eventTypes: ['activity.*'],
        headers: ['x-team'],
        includeTest: false,
        status: 'active',
      });
      const list = await hub.api().get('/api/destinations').expect(200);
      const listed = list.body.find((d: { id: string }) => d.id === created.body.id);
      expect(listed).toBeDefined();
      expect(listed).not.toHaveProperty('secret');
      expect(listed.headers).toEqual(['x-team']);
      for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
        expect(text).not.toContain(secret.slice('whsec_'.length));
        expect(text).not.toContain('ops-secret-value');
      }
    });

    it('returns a given secret once; PATCH eventTypes/includeTest/status; rotates; deletes', async () => {
      const given = whsec();
      const created = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'given', type: 'webhook', url: target, eventTypes: ['*'], secret: given })
        .expect(201);
      const id = created.body.id;
      expect(created.body.secret).toBe(given);

      const patched = await hub
        .api()
        .patch(`/api/destinations/${id}`)
        .send({ eventTypes: ['contact.*', 'activity.completed'], includeTest: true, status: 'disabled' })
        .expect(200);
      expect(patched.body).toMatchObject({
        eventTypes: ['contact.*', 'activity.completed'],
        includeTest: true,
        status: 'disabled',
        disabledReason: expect.any(String),
      });
      expect(patched.body).not.toHaveProperty('secret');
      const reactivated = await hub.api().patch(`/api/destinations/${id}`).send({ status: 'active' }).expect(200);
      expect(reactivated.body.status).toBe('active');
      expect(reactivated.body).toMatchObject({ disabledReason: null, disabledAt: null });

      const rotated = await hub.api().post(`/api/destinations/${id}/rotate-secret`).expect(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(given);
      const after = await hub.api().get(`/api/destinations/${id}`).expect(200);
      expect(after.body).not.toHaveProperty('secret');
      expect(JSON.stringify(after.body)).not.toContain(rotated.body.secret.slice('whsec_'.length));
      expect(JSON.stringify(after.body)).not.toContain(given.slice('whsec_'.length));

      await hub.api().delete(`/api/destinations/${id}`).expect(204);
      await hub.api().post(`/api/destinations/${id}/purge`).expect(200);
      const gone = await hub.api().get(`/api/destinations/${id}`).expect(404);
      expect(gone.body).toEqual(errorBody(404, 'Not Found'));
    });

    it.each([
      ['an invalid url', { url: 'not a url' }, /url/],
      ['empty eventTypes', { eventTypes: [] }, /eventTypes/],
      ['a bad glob', { eventTypes: ['Activity..*'] }, /eventTypes/],
      ['an invalid JSONata filter', { filter: 'type = (' }, /JSONata/],
      ['a reserved header', { headers: { 'webhook-signature': 'v1,forged' } }, /webhook-signature/],
      // Node refuses to send these, so accepting them made every delivery fail (issue 7)
      ['CR LF in a header value', { headers: { 'x-team': 'a\r\nx-injected: 1' } }, /"x-team" contains a control/],
      // A NUL never reaches the destination checks: the /api body parser refuses it first, with its own reason.
      ['NUL in a header value', { headers: { 'x-team': 'a\u0000b' } }, /Body must not contain NUL characters/],
      ['another C0 control in a header value', { headers: { 'x-team': 'a\u001bb' } }, /"x-team" contains a control/],
      ['DEL in a header value', { headers: { 'x-team': 'a\u007fb' } }, /"x-team" contains a control/],
      ['a non-Latin-1 header value', { headers: { 'x-team': '\u65e5\u672c' } }, /"x-team" contains a character/],
      // WHATWG URL parsing (Node's and axios') has no IPv6 zone ids: this gave a 500
      ['a URL with an IPv6 zone id', { url: 'http://[fe80::1%25lo]/x' }, /url/],
    ])('refuses %s with 400', async (_what, override, message) => {
      const response = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'bad', type: 'webhook', url: target, eventTypes: ['activity.*'], ...override })
        .expect(400);
      expect(response.body).toEqual(errorBody(400, 'Bad Request'));
      expect(response.body.message).toMatch(message);
    });

    it('refuses a control character in a header value or a zone-id URL on PATCH, and keeps the destination', async () => {
      const created = await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'patched', type: 'webhook', url: target, eventTypes: ['*'], headers: { 'x-team': 'ops' } })
        .expect(201);
      const id = created.body.id;

      const header = await hub
        .api()
        .patch(`/api/destinations/${id}`)
        .send({ headers: { 'x-team': 'ops\nx-injected: 1' } })
        .expect(400);
      expect(header.body).toEqual(errorBody(400, 'Bad Request'));
      expect(header.body.message).toContain('"x-team"');
      const url = await hub
        .api()
        .patch(`/api/destinations/${id}`)
        .send({ url: 'http://[fe80::1%25eth0]/x' })
        .expect(400);
      expect(url.body).toEqual(errorBody(400, 'Bad Request'));

      const after = await hub.api().get(`/api/destinations/${id}`).expect(200);
      expect(after.body).toMatchObject({ url: target, headers: ['x-team'] });
    });

    it('refuses a loopback target when HUB_OUTBOUND_ALLOW does not list it', async () => {
      const strict = await startHub({ HUB_OUTBOUND_ALLOW: '' });
      try {
        const response = await strict
          .api()
          .post('/api/destinations')
          .send({ name: 'ssrf', type: 'webhook', url: 'http://127.0.0.1:9/x', eventTypes: ['*'] })
          .expect(400);
        expect(response.body).toEqual(errorBody(400, 'Bad Request'));
        expect(response.body.message).toContain('HUB_OUTBOUND_ALLOW');
        // IPv4-compatible IPv6 forms of loopback and of the cloud metadata address (issue 7)
        for (const url of ['http://[::127.0.0.1]:9/x', 'http://[::a9fe:a9fe]/latest/meta-data']) {
          const embedded = await strict
            .api()
            .post('/api/destinations')
            .send({ name: 'ssrf', type: 'webhook', url, eventTypes: ['*'] })
            .expect(400);
          expect(embedded.body.message).toContain('HUB_OUTBOUND_ALLOW');
        }
        const [row] = await strict.sql<{ count: number }>('SELECT count(*)::int AS count FROM destination');
        expect(row.count).toBe(0);
      } finally {
        await strict.close();
      }
    });
  });

  it('generates an API key on first boot when HUB_API_KEY is unset, prints it once and keeps only its hash', async () => {
    const fresh = await startHub({ HUB_API_KEY: '' });
    try {
      const line = fresh.logs.find((l) => l.includes('Generated management API key'));
      expect(line).toBeDefined();
      const key = /sk_[A-Za-z0-9_-]+/.exec(line!)![0];
      expect(key.length).toBeGreaterThan(20);

      await fresh.http().get('/api/sources').set('authorization', `Bearer ${key}`).expect(200);
      await fresh.http().get('/api/sources').set('authorization', `Bearer ${TEST_API_KEY}`).expect(401);

      const settings = await fresh.sql<{ key: string; value: string }>('SELECT key, value FROM hub_setting');
      const hash = createHash('sha256').update(key).digest('hex');
      expect(settings.map((s) => s.value)).toContain(hash);
      expect(JSON.stringify(settings)).not.toContain(key);
      expect(JSON.stringify(settings)).not.toContain(key.slice('sk_'.length));

      expect(fresh.logs.filter((l) => l.includes(key.slice('sk_'.length)))).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });

  it('GET /health reports database and redis up', async () => {
    const response = await hub.http().get('/health').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' } },
    });
  });

  it('GET /docs-json serves the OpenAPI document with the /api routes', async () => {
    const response = await hub.http().get('/docs-json').expect(200);
    expect(response.body.openapi).toMatch(/^3\./);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/api/sources', '/api/sources/{id}', '/api/destinations']),
    );
  });

  describe('correlation ids', () => {
    it('echo the body correlationId in the x-correlation-id header', async () => {
      const response = await hub
        .api()
        .get(`/api/sources/src_${'B'.repeat(22)}`)
        .expect(404);
      expect(response.body).toEqual(errorBody(404, 'Not Found'));
      expect(response.headers['x-correlation-id']).toBe(response.body.correlationId);
      const other = await hub
        .api()
        .get(`/api/sources/src_${'B'.repeat(22)}`)
        .expect(404);
      expect(other.body.correlationId).not.toBe(response.body.correlationId);
    });

    it('honour a caller X-Request-Id', async () => {
      const response = await hub.http().get('/api/sources').set('x-request-id', 'abc-123').expect(401);
      expect(response.body.correlationId).toBe('abc-123');
      expect(response.headers['x-correlation-id']).toBe('abc-123');
      const ingest = await hub
        .http()
        .post(`/hooks/src_${'C'.repeat(22)}`)
        .set({ ...svixHeaders(whsec(), '{}'), 'x-request-id': 'abc-123' })
        .send('{}')
        .expect(404);
      expect(ingest.body).toEqual({ ...errorBody(404, 'Not Found'), correlationId: 'abc-123' });
      expect(ingest.headers['x-correlation-id']).toBe('abc-123');
    });
  });
});
