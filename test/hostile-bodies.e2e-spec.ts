import { MAX_RENDERED_PAYLOAD_DEPTH } from '../src/events/events.service';
import { startHub, TestHub } from './helpers/hub';

const nestedArray = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

/** Issue 7: deep JSON and NUL characters gave 500 on /api and on GET /api/events/:id. */
describe('hostile bodies e2e', () => {
  let hub: TestHub;
  let sourceId: string;
  let destinationId: string;

  beforeAll(async () => {
    // No workers: these tests are about the HTTP surface, and a poison event must not keep a worker busy here.
    hub = await startHub({ HUB_ROLE: 'api' });
    sourceId = (await hub.api().post('/api/sources').send({ name: 'Sales Ask', connector: 'salesask' }).expect(201))
      .body.id;
    destinationId = (
      await hub
        .api()
        .post('/api/destinations')
        .send({ name: 'd', type: 'webhook', url: 'http://127.0.0.1:9/x', eventTypes: ['*'] })
        .expect(201)
    ).body.id;
  });

  afterAll(async () => {
    await hub?.close();
  });

  describe('GET /api/events/:id', () => {
    it('answers 200 for a payload nested 100 000 deep, with the payload as text and saying so', async () => {
      const raw = `{"event": "recording.processed", "data": {"id": "rec_deep", "items": ${nestedArray(100_000)}}}`;
      expect(Buffer.byteLength(raw)).toBeLessThan(1024 * 1024);
      const accepted = await hub
        .http()
        .post(`/hooks/${sourceId}`)
        .set('content-type', 'application/json')
        .send(raw)
        .expect(202);

      const answer = await hub.api().get(`/api/events/${accepted.body.id}`).expect(200);
      expect(answer.body).toMatchObject({ id: accepted.body.id, sourceId, payloadFormat: 'text', payload: raw });
    });

    it('renders a payload exactly at the rendering limit as JSON', async () => {
      // body → data → items: two levels, then the array fills the rest up to MAX_RENDERED_PAYLOAD_DEPTH.
      const items = nestedArray(MAX_RENDERED_PAYLOAD_DEPTH - 2);
      const raw = `{"event": "recording.processed", "data": {"id": "rec_limit", "items": ${items}}}`;
      const accepted = await hub
        .http()
        .post(`/hooks/${sourceId}`)
        .set('content-type', 'application/json')
        .send(raw)
        .expect(202);

      const answer = await hub.api().get(`/api/events/${accepted.body.id}`).expect(200);
      expect(answer.body).toMatchObject({ payloadFormat: 'json', payload: JSON.parse(raw) });
    });

    it('still renders an ordinary payload as JSON', async () => {
      const payload = { event: 'recording.processed', data: { id: 'rec_plain', nested: [[[1]]] } };
      const accepted = await hub
        .http()
        .post(`/hooks/${sourceId}`)
        .set('content-type', 'application/json')
        .send(JSON.stringify(payload))
        .expect(202);

      const answer = await hub.api().get(`/api/events/${accepted.body.id}`).expect(200);
      expect(answer.body).toMatchObject({ payloadFormat: 'json', payload });
    });
  });

  describe('/api bodies', () => {
    const routes = (): [method: 'post' | 'patch', path: string, body: Record<string, unknown>][] => [
      ['post', '/api/sources', { name: 'n', connector: 'salesask' }],
      ['patch', `/api/sources/${sourceId}`, { name: 'n' }],
      ['post', `/api/sources/${sourceId}/test`, { event: 'recording.processed' }],
      ['post', '/api/destinations', { name: 'n', type: 'webhook', url: 'http://127.0.0.1:9/x', eventTypes: ['*'] }],
      ['patch', `/api/destinations/${destinationId}`, { name: 'n' }],
      ['post', `/api/destinations/${destinationId}/rotate-secret`, {}],
      ['post', '/api/events/in_unknown/renormalize', {}],
      ['post', '/api/events/in_unknown/replay', {}],
      ['post', '/api/deliveries/retry', {}],
    ];

    /** Each hostile body as raw text, built from a route's valid body. */
    const hostile: [what: string, build: (valid: Record<string, unknown>) => string, message: RegExp][] = [
      [
        'an array nested 100 000 deep',
        (valid) => JSON.stringify(valid).replace(/}$/, `, "deep": ${nestedArray(100_000)}}`),
        /nested deeper than 64/,
      ],
      [
        'an object nested 65 deep',
        (valid) => JSON.stringify(valid).replace(/}$/, `, "deep": ${'{"a": '.repeat(64)}1${'}'.repeat(64)}}`),
        /nested deeper than 64/,
      ],
      [
        'a \\u0000 escape in a string',
        (valid) => JSON.stringify({ ...valid, name: 'a\u0000b', event: 'recording.processed\u0000' }),
        /NUL/,
      ],
      ['a \\u0000 escape in a key', (valid) => JSON.stringify({ ...valid, 'a\u0000': 1 }), /NUL/],
      ['a raw NUL byte', (valid) => JSON.stringify(valid).replace(/}$/, ', "x": "a\u0000b"}'), /NUL/],
    ];

    it.each(hostile)('answers 400 to %s on every POST and PATCH route', async (_what, build, message) => {
      for (const [method, path, valid] of routes()) {
        const answer = await hub.api()[method](path).set('content-type', 'application/json').send(build(valid));
        expect({ route: `${method} ${path}`, status: answer.status }).toEqual({
          route: `${method} ${path}`,
          status: 400,
        });
        expect(answer.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: expect.stringMatching(message),
          correlationId: expect.any(String),
        });
      }
    });

    it.each([
      ['get', '/api/events/%00'],
      ['get', '/api/events?sourceId=%00'],
      ['get', '/api/sources/src_%00'],
      ['patch', '/api/sources/src_%00'],
      ['get', '/api/destinations/%00'],
      ['post', '/api/events/in_x%00/renormalize'],
      ['get', '/api/deliveries/msg_%00'],
      ['post', '/api/deliveries/msg_%00/retry'],
    ] as const)('answers 400 to a NUL in the URL: %s %s', async (method, path) => {
      const answer = await hub.api()[method](path).send({});
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'URL must not contain NUL characters (%00)',
        correlationId: expect.any(String),
      });
    });

    it('still accepts a body nested exactly 64 deep where the route allows it', async () => {
      const verification = JSON.parse(`${'{"a": '.repeat(62)}1${'}'.repeat(62)}`);
      await hub
        .api()
        .patch(`/api/sources/${sourceId}`)
        .send({ name: 'Sales Ask', verification }) // body → verification → 62 objects = 64 levels
        .expect(200);
    });
  });
});
