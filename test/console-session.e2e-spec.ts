import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startHub, TEST_API_KEY, TestHub } from './helpers/hub';

const errorBody = (statusCode: number, error: string) => ({
  statusCode,
  error,
  message: expect.any(String),
  correlationId: expect.any(String),
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Signs in and returns the cookie pair (`sb_session=…`) and the CSRF token. */
async function signIn(hub: TestHub): Promise<{ cookie: string; token: string; csrfToken: string }> {
  const response = await hub.http().post('/api/session').send({ apiKey: TEST_API_KEY }).expect(201);
  const setCookie = String(response.headers['set-cookie']);
  const token = /sb_session=([^;]+)/.exec(setCookie)![1];
  return { cookie: `sb_session=${token}`, token, csrfToken: response.body.csrfToken };
}

/** Issue 10: the console signs in once with the API key and then holds an HttpOnly session cookie. */
describe('console session e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('refuses a wrong key with 401, sets no cookie and stores nothing', async () => {
    const response = await hub.http().post('/api/session').send({ apiKey: 'wrong-key-0123456789abcdef' });
    expect(response.status).toBe(401);
    expect(response.body).toEqual(errorBody(401, 'Unauthorized'));
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(await hub.sql('SELECT * FROM console_session')).toEqual([]);
    await hub.http().post('/api/session').send({}).expect(400);
  });

  it('answers a right key with an HttpOnly, SameSite=Strict cookie and stores only the token hash', async () => {
    const response = await hub.http().post('/api/session').send({ apiKey: TEST_API_KEY }).expect(201);
    expect(response.body).toEqual({ csrfToken: expect.stringMatching(/^[\w-]{43}$/), expiresAt: expect.any(String) });
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/^sb_session=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    const token = /sb_session=([^;]+)/.exec(setCookie)![1];
    const rows = await hub.sql<{ token_sha256: string; expires_at: Date }>(
      'SELECT token_sha256, expires_at FROM console_session',
    );
    expect(rows.map((r) => r.token_sha256)).toContain(sha256(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    const expiresIn = new Date(response.body.expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(11 * 3600_000);
    expect(expiresIn).toBeLessThanOrEqual(12 * 3600_000);
  });

  it('lets the cookie read the API and tells the page its CSRF token', async () => {
    const session = await signIn(hub);
    await hub.http().get('/api/sources').set('cookie', session.cookie).expect(200);
    const current = await hub.http().get('/api/session').set('cookie', `other=1; ${session.cookie}`).expect(200);
    expect(current.body.csrfToken).toBe(session.csrfToken);
    await hub.http().get('/api/session').expect(401);
    await hub.http().get('/api/sources').set('cookie', 'sb_session=not-a-session').expect(401);
  });

  it('requires the session-bound x-csrf-token on cookie-authenticated mutations, but not with Bearer', async () => {
    const session = await signIn(hub);
    const other = await signIn(hub);
    const create = () => hub.http().post('/api/sources').set('cookie', session.cookie);
    const body = { name: 'from the console', connector: 'salesask' };

    const missing = await create().send(body);
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual(errorBody(403, 'Forbidden'));
    expect((await create().set('x-csrf-token', 'forged').send(body)).status).toBe(403);
    expect((await create().set('x-csrf-token', other.csrfToken).send(body)).status).toBe(403);
    // Refused mutations changed nothing.
    expect((await hub.api().get('/api/sources').expect(200)).body).toEqual([]);

    const created = await create().set('x-csrf-token', session.csrfToken).send(body).expect(201);
    await hub
      .http()
      .delete(`/api/sources/${created.body.id}`)
      .set('cookie', session.cookie)
      .set('x-csrf-token', session.csrfToken)
      .expect(204);
    await hub.api().post('/api/sources').send(body).expect(201);
  });

  it('judges a request with a Bearer header on the key alone: a wrong key is 401 even beside a live cookie', async () => {
    const session = await signIn(hub);
    const response = await hub
      .http()
      .get('/api/sources')
      .set('cookie', session.cookie)
      .set('authorization', 'Bearer wrong-key-0123456789abcdef');
    expect(response.status).toBe(401);
    expect(response.body.message).toMatch(/Invalid API key/);
  });

  it('ends the session on the server at sign-out, so a kept copy of the cookie is worthless', async () => {
    const session = await signIn(hub);
    await hub.http().delete('/api/session').set('cookie', session.cookie).expect(403);
    const out = await hub
      .http()
      .delete('/api/session')
      .set('cookie', session.cookie)
      .set('x-csrf-token', session.csrfToken)
      .expect(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^sb_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
    expect(await hub.sql('SELECT 1 FROM console_session WHERE token_sha256 = $1', [sha256(session.token)])).toEqual([]);
    await hub.http().get('/api/sources').set('cookie', session.cookie).expect(401);
    await hub.http().get('/api/session').set('cookie', session.cookie).expect(401);
  });

  it('refuses an expired session', async () => {
    const session = await signIn(hub);
    await hub.sql(`UPDATE console_session SET expires_at = now() - interval '1 second' WHERE token_sha256 = $1`, [
      sha256(session.token),
    ]);
    const response = await hub.http().get('/api/sources').set('cookie', session.cookie);
    expect(response.status).toBe(401);
    expect(response.body.message).toMatch(/Session expired/);
  });

  it('gives every connector vendor-specific setup text', async () => {
    const connectors = (await hub.api().get('/api/connectors').expect(200)).body as {
      id: string;
      setup: { where: string; steps: string[]; secret?: string };
    }[];
    expect(connectors.length).toBeGreaterThanOrEqual(5);
    for (const connector of connectors) {
      expect(connector.setup.where).toMatch(/Settings|Webhooks/);
      expect(connector.setup.steps.length).toBeGreaterThan(1);
    }
    const byId = Object.fromEntries(connectors.map((c) => [c.id, c.setup]));
    expect(byId.asan.where).toBe('Asan CRM → Settings → Integrations → Webhooks tab');
    expect(byId.asan.secret).toMatch(/X-Asan-Signature/);
    expect(byId.askelephant.secret).toMatch(/whsec_/);
    expect(byId.telephony.steps.join(' ')).toMatch(/Additional Headers.*X-Webhook-Token/);
    expect(byId.salesask.secret).toBeUndefined();
  });
});

describe('console static files e2e', () => {
  let hub: TestHub;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sb-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><meta name="csp-nonce" content="__CSP_NONCE__"><div id="root"></div>' +
        '<script type="module" src="/console/assets/app-abc123.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log("app")');
    hub = await startHub({ HUB_CONSOLE_DIR: dir });
  });

  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const nonceOf = (csp: string) => /'nonce-([^']+)'/.exec(csp)?.[1];

  it('sends / to the console', async () => {
    const response = await hub.http().get('/').expect(302);
    expect(response.headers.location).toBe('/console/');
  });

  it.each(['/console', '/console/', '/console/events/in_123', '/console/index.html', '/console/issues?x=1'])(
    'serves index.html with a fresh CSP nonce at %s',
    async (path) => {
      const response = await hub.http().get(path).expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['cache-control']).toBe('no-store');
      const csp = response.headers['content-security-policy'];
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(csp).toMatch(/style-src-elem 'self' 'nonce-[^']+'/);
      // Only style attributes may be inline; scripts and style elements never.
      expect(csp.replace("style-src-attr 'unsafe-inline'", '')).not.toContain('unsafe');
      const nonce = nonceOf(csp)!;
      expect(response.text).toContain(`content="${nonce}"`);
      expect(response.text).not.toContain('__CSP_NONCE__');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
    },
  );

  it('gives each index response its own nonce', async () => {
    const a = await hub.http().get('/console/').expect(200);
    const b = await hub.http().get('/console/').expect(200);
    expect(nonceOf(a.headers['content-security-policy'])).not.toBe(nonceOf(b.headers['content-security-policy']));
  });

  it('serves hashed assets cached for good, with the same headers', async () => {
    const response = await hub.http().get('/console/assets/app-abc123.js').expect(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers a missing asset with a 404 in the hub error shape, not the page', async () => {
    const response = await hub.http().get('/console/assets/gone-123.js').expect(404);
    expect(response.body).toEqual(errorBody(404, 'Not Found'));
  });

  it('never serves a file outside the console folder', async () => {
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json']) {
      const response = await request(hub.baseUrl).get(path);
      expect(response.text).not.toContain('"name": "switchboard"');
    }
  });

  it('leaves the API and its Bearer guard alone', async () => {
    await hub.http().get('/api/sources').expect(401);
    await hub.api().get('/api/sources').expect(200);
  });
});

describe('console not built e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub({ HUB_CONSOLE_DIR: join(tmpdir(), 'sb-console-missing-dir') });
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('says how to build it', async () => {
    const response = await hub.http().get('/console/').expect(503);
    expect(response.body).toEqual(errorBody(503, 'Service Unavailable'));
    expect(response.body.message).toMatch(/npm run build/);
  });
});
