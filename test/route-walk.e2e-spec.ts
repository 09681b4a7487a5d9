import Ajv, { ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { registeredRoutes } from '../src/bootstrap';
import { startHub, TEST_API_KEY, TestHub, waitFor } from './helpers/hub';
import { Sink } from './helpers/sink';
import { sample, svixHeaders, whsec } from './helpers/vendors';

/**
 * Issue 9, "a test walks the router": the routes come from Fastify itself (bootstrap's onRoute record), not from
 * the OpenAPI document or a list in this file, so a route added by any controller is walked without being named.
 * It proves that no /api route answers without the key, that every route is documented from the code (summary,
 * a 2xx schema, errors in the one error shape), that the document names no route the server lacks, and that
 * the answers of the routes it can call match their documented schemas.
 */

/**
 * /api routes that deliberately answer without the key, each with why. Everything else under /api must answer 401
 * without it. (The console's sign-in takes the key in its body: it is how a browser gets a session.)
 */
const PUBLIC_API_ROUTES: Record<string, string> = {
  'POST /api/session': 'console sign-in: the API key is in its body',
};

/** Error answers that are deliberately not ErrorResponse, each with why. */
const OTHER_ERROR_SHAPES: Record<string, string> = {
  'GET /health 503': "Terminus's health body, so ops see which dependency is down (DESIGN §7)",
};

/** The documentation is served from these routes; it does not document itself. */
const isDocumentationRoute = (url: string) => /^\/docs(-json|-yaml|\/.*)?$/.test(url);

/** The console's page and files (and `/`, which redirects there) are a web app, not API: console-session.e2e-spec.ts. */
const isConsoleRoute = (url: string) => url === '/' || url === '/console' || url.startsWith('/console/');

/** Methods OpenAPI documents. Fastify adds a HEAD route for every GET; those are walked for auth only. */
const DOCUMENTED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

const FAKE_ID = `x_${'A'.repeat(22)}`;
const concrete = (url: string, params: Record<string, string> = {}) =>
  url.replace(/:(\w+)(\([^)]*\))?/g, (_m, name: string) => params[name] ?? FAKE_ID).replace(/\*/g, 'x');
const openApiPath = (url: string) => url.replace(/:(\w+)(\([^)]*\))?/g, '{$1}');
const key = (method: string, url: string) => `${method} ${url}`;

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const ERROR_SCHEMA = '#/components/schemas/ErrorResponse';
const credentials: [what: string, header: string | undefined][] = [
  ['no Authorization', undefined],
  ['a wrong key', 'Bearer wrong-key-0123456789abcdef'],
  ['a non-Bearer scheme', `Token ${TEST_API_KEY}`],
  ['Basic auth with the key as password', `Basic ${Buffer.from(`admin:${TEST_API_KEY}`).toString('base64')}`],
];

/**
 * The schemas with every object that lists its properties closed to others (unless it says otherwise), so an
 * answer carrying a field its DTO does not document fails validation: the document shows all the API returns.
 */
function closed<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(closed) as T;
  if (!schema || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(
    Object.entries(schema).map(([name, value]) => [name, name === 'example' ? value : closed(value)]),
  ) as Record<string, unknown>;
  if (copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy as T;
}

describe('route walk e2e', () => {
  let hub: TestHub;
  let sink: Sink;
  let routes: { method: string; url: string }[];
  let doc: OpenApiDocument;
  let ajv: Ajv;

  beforeAll(async () => {
    hub = await startHub();
    sink = await new Sink().start();
    routes = [...new Map(registeredRoutes(hub.app).map((r) => [key(r.method, r.url), r])).values()];
    doc = (await hub.http().get('/docs-json').expect(200)).body as OpenApiDocument;
    // OpenAPI 3.0 schemas carry `example` and `nullable`; the document is one schema whose components refs resolve.
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: closed(doc.components) });
  });

  afterAll(async () => {
    await hub?.close();
    await sink?.stop();
  });

  const apiRoutes = () => routes.filter((r) => r.url === '/api' || r.url.startsWith('/api/'));
  const guardedRoutes = () => apiRoutes().filter((r) => !(key(r.method, r.url) in PUBLIC_API_ROUTES));
  const documentableRoutes = () =>
    routes.filter(
      (r) => DOCUMENTED_METHODS.includes(r.method) && !isDocumentationRoute(r.url) && !isConsoleRoute(r.url),
    );
  const operationOf = (method: string, url: string): Operation | undefined =>
    doc.paths[openApiPath(url)]?.[method.toLowerCase()];
  /** A schema of the document, its `#/components/...` refs pointed at the document added to ajv. */
  const compiled = new Map<string, ValidateFunction>();
  const validatorFor = (schema: object): ValidateFunction => {
    const text = JSON.stringify(schema).replace(/"#\/components\//g, '"openapi.json#/components/');
    if (!compiled.has(text)) compiled.set(text, ajv.compile(JSON.parse(text) as object));
    return compiled.get(text)!;
  };

  it('records the routes the server registered, those of every feature included', () => {
    const known = routes.map((r) => key(r.method, r.url));
    // A sample of each controller: proves the record sees Nest's routes, whatever else is added later.
    expect(known).toEqual(
      expect.arrayContaining([
        'GET /api/sources',
        'POST /api/sources/:id/test',
        'PATCH /api/destinations/:id',
        'GET /api/connectors/:id/samples',
        'GET /api/canonical',
        'PUT /api/mappings/:connector/:eventType',
        'POST /api/events/:id/replay',
        'POST /api/deliveries/retry',
        'POST /hooks/:sourceId',
        'GET /health',
        'GET /metrics',
        'GET /docs-json',
      ]),
    );
    // Printed so a reviewer sees what the walk covered.
    process.stdout.write(`route walk: ${known.length} routes\n  ${known.sort().join('\n  ')}\n`);
  });

  it('every /api route answers 401 in the hub error shape without a valid Bearer key', async () => {
    const errorSchema = validatorFor({ $ref: ERROR_SCHEMA });
    const walked: string[] = [];
    for (const { method, url } of guardedRoutes()) {
      const path = concrete(url);
      for (const [what, header] of credentials) {
        let req = request(hub.baseUrl)[method.toLowerCase() as 'get'](path);
        if (header) req = req.set('authorization', header);
        // A valid-looking body: the refusal must come from the key check, not from validation.
        if (['POST', 'PUT', 'PATCH'].includes(method)) req = req.send({ name: 'x' });
        const response = await req;
        const route = `${method} ${url} with ${what}`;
        expect({ route, status: response.status }).toEqual({ route, status: 401 });
        if (method === 'HEAD') continue; // no body on HEAD
        expect({ route, body: response.body }).toEqual({
          route,
          body: {
            statusCode: 401,
            error: 'Unauthorized',
            message: expect.any(String),
            correlationId: expect.any(String),
          },
        });
        expect({ route, valid: errorSchema(response.body), errors: errorSchema.errors }).toMatchObject({
          route,
          valid: true,
        });
        expect(response.headers['x-correlation-id']).toBe(response.body.correlationId);
      }
      walked.push(key(method, url));
    }
    expect(walked.length).toBeGreaterThanOrEqual(30);
  });

  it('every public /api route is listed on purpose and still documented', () => {
    for (const name of Object.keys(PUBLIC_API_ROUTES)) {
      const route = apiRoutes().find((r) => key(r.method, r.url) === name);
      // A listed route may not exist on this build; one that exists must be documented like any other.
      if (route)
        expect({ name, summary: operationOf(route.method, route.url)?.summary }).toEqual({
          name,
          summary: expect.stringMatching(/\S/),
        });
    }
  });

  it('/docs-json documents every route with a summary, tags, a 2xx schema and its errors in the one shape', () => {
    const problems: string[] = [];
    for (const { method, url } of documentableRoutes()) {
      const name = key(method, url);
      const operation = operationOf(method, url);
      if (!operation) {
        problems.push(`${name}: not in /docs-json`);
        continue;
      }
      if (!operation.summary?.trim()) problems.push(`${name}: no summary`);
      if (!operation.tags?.length) problems.push(`${name}: no tag`);
      const statuses = Object.keys(operation.responses);
      const success = statuses.filter((s) => /^2\d\d$/.test(s));
      if (!success.length) problems.push(`${name}: no 2xx response`);
      for (const status of success) {
        const content = operation.responses[status].content;
        // 204 No Content is the one success without a body.
        if (status === '204') {
          if (content) problems.push(`${name}: 204 documents a body`);
        } else if (!content || !Object.values(content).some((c) => c.schema)) {
          problems.push(`${name}: ${status} has no schema`);
        }
      }
      for (const status of statuses.filter((s) => /^[45]\d\d$/.test(s))) {
        const ref = operation.responses[status].content?.['application/json']?.schema?.$ref;
        if (ref !== ERROR_SCHEMA && !(`${name} ${status}` in OTHER_ERROR_SHAPES))
          problems.push(`${name}: ${status} is not documented as ErrorResponse`);
      }
      const guarded = url.startsWith('/api/') && !(name in PUBLIC_API_ROUTES);
      if (guarded) {
        if (!operation.security?.some((s) => 'bearer' in s)) problems.push(`${name}: no bearer security`);
        if (!statuses.includes('401')) problems.push(`${name}: 401 not documented`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every path and method in /docs-json exists in the router', () => {
    const served = new Set(documentableRoutes().map((r) => key(r.method, openApiPath(r.url))));
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations)
        .filter((method) => DOCUMENTED_METHODS.includes(method.toUpperCase()))
        .map((method) => key(method.toUpperCase(), path)),
    );
    expect(documented.length).toBeGreaterThan(0);
    expect(documented.filter((operation) => !served.has(operation))).toEqual([]);
  });

  it('the shared ErrorResponse schema is the shape the hub answers', async () => {
    const answer = await hub
      .api()
      .get(`/api/sources/src_${'B'.repeat(22)}`)
      .expect(404);
    const schema = doc.components.schemas.ErrorResponse as { required: string[]; properties: object };
    expect(schema.required.sort()).toEqual(['correlationId', 'error', 'message', 'statusCode']);
    expect(Object.keys(answer.body).sort()).toEqual(schema.required.sort());
    expect(Object.keys(schema.properties).sort()).toEqual([
      'correlationId',
      'details',
      'error',
      'message',
      'statusCode',
    ]);
  });

  /** Problems with one answer: its status must be documented, and its body must validate against that schema. */
  function checkAnswer(method: string, url: string, response: request.Response): string[] {
    const name = key(method, url);
    const documented = operationOf(method, url)?.responses[String(response.status)];
    if (!documented) return [`${name}: answered ${response.status}, which is not documented`];
    const schema = documented.content?.['application/json']?.schema;
    if (!schema) return []; // text (metrics) or no body (204)
    const validate = validatorFor(schema);
    if (validate(response.body)) return [];
    const errors = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || '/'} ${e.message}${'additionalProperty' in e.params ? `: ${e.params.additionalProperty}` : ''}`,
    );
    return [`${name} ${response.status}: ${errors.join('; ')}`];
  }

  /**
   * The schemas are true: with the key, every GET the walk can fill in answers a documented status with a body
   * that validates against that status's schema. Ids come from a source, destination and event made here (whose
   * answers are checked too, the hooks 202 and duplicate 200 included); a GET with a parameter this test has no
   * value for is called with a fake id, and its answer (a 404) must be documented as well.
   */
  it('answers validate against their documented schemas', async () => {
    const problems: string[] = [];
    const secret = whsec();
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'AE', connector: 'askelephant', secrets: [secret] })
      .expect(201);
    problems.push(...checkAnswer('POST', '/api/sources', source));
    const destination = await hub
      .api()
      .post('/api/destinations')
      .send({ name: 'sink', type: 'webhook', url: sink.url, eventTypes: ['*'] })
      .expect(201);
    problems.push(...checkAnswer('POST', '/api/destinations', destination));
    const body = sample('askelephant', 'v1.contact.created.json');
    const send = () => hub.http().post(`/hooks/${source.body.id}`).set(svixHeaders(secret, body)).send(body.toString());
    const accepted = await send().expect(202);
    problems.push(...checkAnswer('POST', '/hooks/:sourceId', accepted));
    const duplicate = await send().expect(200);
    expect(duplicate.body).toEqual({ id: accepted.body.id, duplicate: true });
    problems.push(...checkAnswer('POST', '/hooks/:sourceId', duplicate));
    const delivery = await waitFor(
      async () => {
        const detail = await hub.api().get(`/api/events/${accepted.body.id}`);
        return (detail.body.deliveries as { id: string; status: string }[] | undefined)?.find(
          (d) => d.status === 'succeeded',
        );
      },
      { what: 'the delivery to succeed', timeoutMs: 60_000 },
    );
    const params: Record<string, Record<string, string>> = {
      '/api/sources/': { id: source.body.id },
      '/api/destinations/': { id: destination.body.id },
      '/api/events/': { id: accepted.body.id },
      '/api/deliveries/': { id: delivery.id },
      '/api/connectors/': { id: 'askelephant' },
      '/api/mappings/': { connector: 'askelephant', eventType: 'v1.contact.created' },
    };
    let checked = 0;
    for (const { method, url } of documentableRoutes().filter((r) => r.method === 'GET')) {
      if (!operationOf(method, url)) continue; // reported by the documentation test
      const filled = Object.entries(params).find(([prefix]) => url.startsWith(prefix))?.[1] ?? {};
      problems.push(...checkAnswer(method, url, await hub.api().get(concrete(url, filled))));
      checked++;
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});

describe('documentation routes e2e', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startHub();
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('/docs answers the Swagger UI page without a key', async () => {
    const response = await hub.http().get('/docs').redirects(1).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.text).toMatch(/swagger-ui/i);
  });

  it('README links /docs and /docs-json and says what they are', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    expect(readme).toMatch(/`\/docs`[^\n]*Swagger UI/);
    expect(readme).toMatch(/`\/docs-json`[^\n]*OpenAPI/);
  });

  it('/docs-json answers the OpenAPI 3 document generated from the code', async () => {
    const response = await hub.http().get('/docs-json').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({
      openapi: expect.stringMatching(/^3\./),
      info: { title: 'Switchboard' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    });
    expect(Object.keys(response.body.paths)).toEqual(expect.arrayContaining(['/api/sources', '/hooks/{sourceId}']));
  });
});
