import fc from 'fast-check';
import http from 'node:http';
import { FAULT_API_KEY, SHARED_REDIS_URL } from './harness/env';
import { HubDeployment, HubProcess } from './harness/hub-process';
import { createSource } from './harness/management';
import { check, finish } from './harness/scenario';

const SEED = 7007;
const NUM_RUNS = 600;
/** RSS may grow this much over the run (caches, JIT, pools warming); a leak of request bodies would exceed it. */
const RSS_GROWTH_BOUND_BYTES = 192 * 1024 * 1024;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Finding {
  method: string;
  path: string;
  contentType?: string;
  bytes: number;
  status: number | string;
  body?: string;
  /** What the hub logged for it (by correlation id). */
  cause?: string;
}

/**
 * Scenario 7: a fast-check property over random bodies, headers, content types, sizes, nesting and broken UTF-8
 * against /hooks/:id and /api/*: never a 5xx (503 aside, when a dependency is down), never a crash, bounded
 * memory. Every run is recorded, so the report lists every distinct 5xx, not only the first.
 */
describe('fault: property test of hostile requests', () => {
  const deployment = new HubDeployment('fuzz', SHARED_REDIS_URL);
  let hub: HubProcess;
  let targets: string[];

  afterAll(() => deployment.dispose());

  it('never answers 5xx, never crashes, keeps memory bounded', async () => {
    const startedAt = Date.now();
    hub = await deployment.start('all');
    const salesAsk = await createSource(hub.baseUrl, 'salesask');
    const askElephant = await createSource(hub.baseUrl, 'askelephant', [
      `whsec_${Buffer.alloc(24, 7).toString('base64')}`,
    ]);
    const telephony = await createSource(hub.baseUrl, 'telephony', ['fuzz-token-0123456789']);
    targets = [
      `/hooks/${salesAsk.id}`,
      `/hooks/${askElephant.id}`,
      `/hooks/${telephony.id}`,
      '/hooks/src_doesnotexist0000000000',
      '/api/sources',
      '/api/destinations',
      `/api/sources/${salesAsk.id}`,
      `/api/sources/${salesAsk.id}/test`,
      '/api/events',
      '/api/events/in_doesnotexist',
      '/api/connectors',
    ];
    // Warm up, so the first RSS sample is not the cold process.
    for (let i = 0; i < 30; i++)
      await fire(hub.baseUrl, {
        method: 'POST',
        path: targets[0],
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(`{"event":"recording.processed","data":{"id":"w${i}"}}`),
      });
    const rssBefore = hub.rssBytes();

    const findings: Finding[] = [];
    let runs = 0;
    const accepted: string[] = [];
    await fc
      .assert(
        fc.asyncProperty(fuzzRequest(targets), async (request) => {
          runs++;
          const answer = await fire(hub.baseUrl, request);
          if (request.path.startsWith('/hooks/') && (answer.status === 202 || answer.status === 200)) {
            const id = /"id":"(in_[^"]+)"/.exec(answer.body ?? '')?.[1];
            if (id) accepted.push(id);
          }
          const refusedEarly = typeof answer.status === 'string' && answer.status.startsWith(REFUSED_EARLY);
          if (refusedEarly) return hub.alive;
          if (typeof answer.status !== 'number' || (answer.status >= 500 && answer.status !== 503)) {
            findings.push({
              method: request.method,
              path: request.path,
              contentType: request.headers['content-type'],
              bytes: request.body.length,
              status: answer.status,
              body: answer.body?.slice(0, 200),
            });
          }
          return hub.alive;
        }),
        { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
      )
      .catch((err: Error) =>
        findings.push({ method: '-', path: '-', bytes: 0, status: `property stopped: ${err.message.slice(0, 300)}` }),
      );
    // What was accepted must stay readable for ops (issue 7: GET /api/events/:id answered 500 for deep payloads).
    for (const id of [...new Set(accepted)].slice(0, 150)) {
      const answer = await fire(hub.baseUrl, {
        method: 'GET',
        path: `/api/events/${id}`,
        headers: { authorization: `Bearer ${FAULT_API_KEY}` },
        body: Buffer.alloc(0),
      });
      if (answer.status !== 200)
        findings.push({
          method: 'GET',
          path: `/api/events/${id}`,
          bytes: 0,
          status: answer.status,
          body: answer.body?.slice(0, 200),
        });
    }
    for (const finding of findings) {
      const correlationId = /"correlationId":"([^"]+)"/.exec(finding.body ?? '')?.[1];
      if (correlationId) finding.cause = hub.errorFor(correlationId);
    }
    const rssAfter = hub.alive ? hub.rssBytes() : NaN;
    const growth = rssAfter - rssBefore;
    const distinct = summarize(findings);

    const failed = finish(
      'property-fuzz',
      `fast-check, ${NUM_RUNS} runs, seed ${SEED}, against /hooks/:id and /api/*`,
      startedAt,
      { acknowledged: runs, delivered: 0, lost: 0 },
      [
        check('no 5xx (503 aside) and no hung request', findings.length === 0, findings.length ? distinct : undefined),
        check(
          'the hub process stays up',
          hub.alive && hub.unexpectedExits.length === 0,
          hub.unexpectedExits.join('; ') || undefined,
        ),
        check(
          `RSS growth under ${RSS_GROWTH_BOUND_BYTES / 1024 / 1024} MiB`,
          growth < RSS_GROWTH_BOUND_BYTES,
          `${(rssBefore / 1048576).toFixed(0)} → ${(rssAfter / 1048576).toFixed(0)} MiB`,
        ),
      ],
      { runs, seed: SEED, rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter, findings: findings.slice(0, 50) },
    );
    expect(failed).toEqual([]);
  });
});

function summarize(findings: Finding[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of findings) {
    const path = f.path.replace(/src_\w+/, 'src_…').replace(/in_\w+/, 'in_…');
    const key = `${f.method} ${path} → ${f.status}${f.cause ? ` (${f.cause})` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const REFUSED_EARLY = 'refused before the body was sent';
/** Bodies at least this large may be refused before they are fully sent (see fire). */
const EARLY_REFUSAL_MIN_BYTES = 64 * 1024;

function fire(baseUrl: string, request: FuzzRequest): Promise<{ status: number | string; body?: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: { ...request.headers, 'content-length': String(request.body.length) },
      timeout: 20_000,
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 'none', body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => resolve({ status: `response error: ${err.message}` }));
    });
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      // A body larger than the socket buffers can still be on its way when the hub has already refused it (400/413
      // with Connection: close) and hung up: the client then fails its write before it reads the answer. That is
      // an early refusal, not a 5xx or a hang (a crash fails hub.alive).
      if ((code === 'EPIPE' || code === 'ECONNRESET') && request.body.length >= EARLY_REFUSAL_MIN_BYTES) {
        return resolve({ status: `${REFUSED_EARLY} (${code})` });
      }
      resolve({ status: `request error: ${code ?? err.message}` });
    });
    req.end(request.body);
  });
}

const deep = (depth: number, open: string, close: string, inner = '1') =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

function fuzzBody(): fc.Arbitrary<Buffer> {
  const text = (s: fc.Arbitrary<string>) => s.map((v) => Buffer.from(v, 'utf8'));
  return fc.oneof(
    text(fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v))),
    text(
      fc
        .record({
          event: fc.constantFrom('recording.processed', 'recording.integration_updated', 'nope', ''),
          data: fc.jsonValue({ maxDepth: 5 }),
        })
        .map((v) => JSON.stringify(v)),
    ),
    text(fc.integer({ min: 1, max: 120_000 }).map((d) => deep(d, '[', ']'))),
    text(
      fc
        .integer({ min: 1, max: 60_000 })
        .map((d) => `{"event":"recording.processed","data":{"id":"x","v":${deep(d, '{"a":', '}')}}}`),
    ),
    fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
    // Broken UTF-8 inside otherwise valid JSON: a lone continuation byte, a truncated sequence, an overlong NUL.
    fc
      .constantFrom('\x80', '\xc3', '\xe2\x82', '\xc0\x80', '\xed\xa0\x80', '\xff\xfe')
      .map((bad) =>
        Buffer.concat([
          Buffer.from('{"event":"recording.processed","data":{"id":"'),
          Buffer.from(bad, 'latin1'),
          Buffer.from('"}}'),
        ]),
      ),
    text(
      fc.constantFrom(
        '{"event":"recording.processed","data":{"id":"a\\u0000b"}}',
        '{"name":"a\\u0000","connector":"salesask"}',
        '\u0000',
        '{"a":"\u0000"}',
      ),
    ),
    text(
      fc
        .integer({ min: 900_000, max: 1_200_000 })
        .map((n) => `{"event":"recording.processed","data":{"id":"${'y'.repeat(n)}"}}`),
    ),
    fc.constant(Buffer.alloc(0)),
  );
}

/** DTO-shaped bodies with hostile values: NUL bytes, deep objects, huge strings, wrong types, odd URLs. */
function apiBody(): fc.Arbitrary<Buffer> {
  const hostile = fc.oneof(
    fc.string({ maxLength: 50 }),
    fc.constantFrom(
      'a\u0000b',
      '\u0000',
      'http://[fe80::1%25lo]/',
      'http://[::127.0.0.1]/',
      'http://x\u0000y/',
      '\ud800',
    ),
    fc.integer({ min: 1, max: 40_000 }).map((d) => `__deep${d}__`),
    fc.integer({ min: 1000, max: 300_000 }).map((n) => 'z'.repeat(n)),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const field = (v: unknown) => (typeof v === 'string' && /^__deep\d+__$/.test(v) ? v : JSON.stringify(v));
  return fc
    .record({
      name: hostile,
      connector: fc.constantFrom('salesask', 'askelephant', 'nope', '../etc'),
      type: fc.constantFrom('webhook', 'x'),
      url: fc.oneof(
        hostile,
        fc.constantFrom('http://127.0.0.1:1/x', 'http://[fe80::1%25lo]/', 'http://[::ffff:127.0.0.1]/'),
      ),
      eventTypes: fc.oneof(fc.constant(['*']), fc.array(hostile, { maxLength: 3 })),
      headers: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        hostile,
      ),
      verification: hostile,
      secrets: fc.array(hostile, { maxLength: 3 }),
      event: fc.constantFrom('recording.processed', 'nope'),
    })
    .map((dto) => {
      // Deep values are spliced in as raw JSON text (JSON.stringify cannot build them).
      const parts = Object.entries(dto).map(([k, v]) => {
        const text = field(v);
        const deep = /^__deep(\d+)__$/.exec(text);
        return `${JSON.stringify(k)}:${deep ? `${'{"a":'.repeat(Number(deep[1]))}1${'}'.repeat(Number(deep[1]))}` : text}`;
      });
      return Buffer.from(`{${parts.join(',')}}`, 'utf8');
    });
}

function fuzzRequest(targets: string[]): fc.Arbitrary<FuzzRequest> {
  const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
  const value = fc.stringMatching(/^[\x20-\x7e]{0,100}$/);
  const contentType = fc.option(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/cloudevents+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json;;;',
      'garbage',
    ),
  );
  const hooks = targets.filter((t) => t.startsWith('/hooks/'));
  const apis = targets.filter((t) => t.startsWith('/api/'));
  const json = 'application/json';
  const key = `Bearer ${FAULT_API_KEY}`;
  // Three families, so the interesting combinations are common: a vendor POSTing hostile bodies, an operator
  // sending hostile DTOs with a valid key, and anything goes.
  return fc
    .oneof(
      fc.record({
        method: fc.constant('POST'),
        path: fc.constantFrom(...hooks),
        contentType: fc.constant(json),
        auth: fc.constant(''),
        extra: fc.dictionary(token, value, { maxKeys: 4 }),
        body: fuzzBody(),
      }),
      fc.record({
        method: fc.constantFrom('POST', 'POST', 'PATCH', 'GET'),
        path: fc.constantFrom(...apis),
        contentType: fc.constant(json),
        auth: fc.constant(key),
        extra: fc.constant({}),
        body: fc.oneof(apiBody(), apiBody(), fuzzBody()),
      }),
      fc.record({
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PATCH', 'PUT', 'DELETE'),
        path: fc.constantFrom(...targets),
        contentType,
        auth: fc.constantFrom(key, key, 'Bearer wrong', '', 'Basic Zm9vOmJhcg=='),
        extra: fc.dictionary(token, value, { maxKeys: 6 }),
        body: fuzzBody(),
      }),
    )
    .map(({ method, path, contentType, auth, extra, body }) => {
      const headers: Record<string, string> = { ...extra };
      for (const name of ['content-length', 'transfer-encoding', 'host', 'connection', 'expect']) delete headers[name];
      if (contentType) headers['content-type'] = contentType;
      if (auth) headers.authorization = auth;
      return { method, path, headers, body };
    });
}
