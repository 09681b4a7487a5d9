import http from 'node:http';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { QueueName } from '../src/pipeline/pipeline.constants';
import { PipelineQueue } from '../src/pipeline/pipeline.queue';
import { startHub, TestHub, waitFor } from './helpers/hub';
import { asanHeaders, sample, svixHeaders, whsec } from './helpers/vendors';

interface Answer {
  status: number;
  body: unknown;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
};

/** DESIGN §1 "fail closed" and §7 rejection order on POST /hooks/:sourceId: a clear 4xx, nothing stored or enqueued. */
describe('ingest rejections e2e', () => {
  let hub: TestHub;
  const aeSecret = whsec();
  const asanSecret = 'asan-signing-secret';
  const telToken = 'tel-token-123456';
  let aeId: string;
  let asanId: string;
  let telId: string;

  beforeAll(async () => {
    hub = await startHub();
    const create = async (body: object) =>
      (await hub.api().post('/api/sources').send(body).expect(201)).body.id as string;
    aeId = await create({ name: 'AskElephant', connector: 'askelephant', secrets: [aeSecret] });
    asanId = await create({ name: 'Asan', connector: 'asan', secrets: [asanSecret] });
    telId = await create({ name: 'Telephony', connector: 'telephony', secrets: [telToken] });
  });

  afterAll(async () => {
    await hub?.close();
  });

  /** A fresh AskElephant event (new evt_ id, so it never collapses onto an earlier one). */
  function aeBody(): Buffer {
    const event = JSON.parse(sample('askelephant', 'v1.contact.created.json').toString());
    event.id = `evt_${randomBytes(8).toString('hex')}`;
    return Buffer.from(JSON.stringify(event));
  }

  const hook = (id: string) => hub.http().post(`/hooks/${id}`);

  async function inboundCount(): Promise<number> {
    const [row] = await hub.sql<{ count: number }>('SELECT count(*)::int AS count FROM inbound_event');
    return row.count;
  }

  async function normalizeJobs(): Promise<Record<string, number>> {
    return hub.app.get(PipelineQueue).queue(QueueName.Normalize).getJobCounts();
  }

  const drained = (counts: Record<string, number>) => Object.values(counts).every((n) => n === 0);

  /**
   * Sends one request that must be rejected with `status`, and proves it left no trace: the error body has the one
   * shape (DESIGN §7), no inbound_event row was added and the normalize queue holds no job.
   */
  async function expectRejected(send: () => PromiseLike<Answer>, status: number, message?: RegExp) {
    await waitFor(async () => drained(await normalizeJobs()), {
      what: 'the normalize queue to drain before the check',
    });
    const before = await inboundCount();
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body).toEqual({
      statusCode: status,
      error: REASONS[status],
      message: expect.any(String),
      correlationId: expect.any(String),
    });
    if (message) expect((response.body as { message: string }).message).toMatch(message);
    expect(await inboundCount()).toBe(before);
    const jobs = await normalizeJobs();
    expect(Object.keys(jobs).length).toBeGreaterThan(0);
    expect(Object.entries(jobs).filter(([, n]) => n !== 0)).toEqual([]);
  }

  /** A POST with exactly the headers given (supertest/superagent would add a content-type to a string body). */
  function rawPost(path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, hub.baseUrl);
      const req = http.request(
        {
          method: 'POST',
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          headers: { ...headers, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      // The hub may answer (404/413) before reading an oversized body and close; the answer is what counts.
      req.on('error', reject);
      req.end(body);
    });
  }

  describe('standard-webhooks (AskElephant) verification → 401', () => {
    it('rejects a signature made with the wrong secret', async () => {
      const body = aeBody();
      await expectRejected(() => hook(aeId).set(svixHeaders(whsec(), body)).send(body.toString()), 401, /signature/i);
    });

    it('rejects a body altered after signing', async () => {
      const body = aeBody();
      const headers = svixHeaders(aeSecret, body);
      const altered = body.toString().replace('"v1.contact.created"', '"v1.contact.deleted"');
      expect(altered).not.toBe(body.toString());
      await expectRejected(() => hook(aeId).set(headers).send(altered), 401, /signature/i);
    });

    it('rejects a correctly signed delivery whose svix-timestamp is 10 minutes old', async () => {
      const body = aeBody();
      const headers = svixHeaders(aeSecret, body, new Date(Date.now() - 10 * 60 * 1000));
      await expectRejected(() => hook(aeId).set(headers).send(body.toString()), 401, /timestamp/i);
    });

    it('rejects a delivery without the svix-signature header', async () => {
      const body = aeBody();
      const { 'svix-signature': _omitted, ...headers } = svixHeaders(aeSecret, body);
      await expectRejected(() => hook(aeId).set(headers).send(body.toString()), 401, /signature/i);
    });
  });

  describe('unknown and disabled sources → 404', () => {
    it('answers 404 for a well-formed but unknown source id', async () => {
      const body = aeBody();
      const unknown = `src_${'A1b2C3d4E5f6G7h8I9j0K1'}`;
      expect(unknown).toMatch(/^src_[0-9A-Za-z]{22}$/);
      await expectRejected(() => hook(unknown).set(svixHeaders(aeSecret, body)).send(body.toString()), 404);
    });

    it('answers 404 for a garbage source id', async () => {
      const body = aeBody();
      await expectRejected(() => hook('not-a-source-id!').set(svixHeaders(aeSecret, body)).send(body.toString()), 404);
    });

    it('answers 404 while a source is disabled, and accepts again once it is re-enabled', async () => {
      await hub.api().patch(`/api/sources/${aeId}`).send({ enabled: false }).expect(200);
      try {
        const body = aeBody();
        await expectRejected(() => hook(aeId).set(svixHeaders(aeSecret, body)).send(body.toString()), 404);
      } finally {
        await hub.api().patch(`/api/sources/${aeId}`).send({ enabled: true }).expect(200);
      }
      const body = aeBody();
      const accepted = await hook(aeId).set(svixHeaders(aeSecret, body)).send(body.toString()).expect(202);
      expect(accepted.body).toEqual({ id: expect.stringMatching(/^in_/) });
    });
  });

  describe('size limit → 413', () => {
    function oversized(): Buffer {
      const event = JSON.parse(aeBody().toString());
      event.data.object.padding = 'x'.repeat(1024 * 1024);
      const body = Buffer.from(JSON.stringify(event));
      expect(body.length).toBeGreaterThan(1024 * 1024);
      return body;
    }

    it('answers 413 for a correctly signed body over 1 MiB on a valid source', async () => {
      const body = oversized();
      await expectRejected(() => rawPost(`/hooks/${aeId}`, body, svixHeaders(aeSecret, body)), 413);
    });

    it('answers 404, not 413, for an oversized body to an unknown source (404 is checked first)', async () => {
      const body = oversized();
      await expectRejected(() => rawPost(`/hooks/src_${'Z'.repeat(22)}`, body, svixHeaders(aeSecret, body)), 404);
    });
  });

  describe('content type → 415', () => {
    it('answers 415 for text/plain, even when correctly signed', async () => {
      const body = aeBody();
      const headers = { ...svixHeaders(aeSecret, body), 'content-type': 'text/plain' };
      await expectRejected(() => hook(aeId).set(headers).send(body.toString()), 415, /application\/json/);
    });

    it('answers 415 when there is no content-type at all', async () => {
      const body = aeBody();
      const { 'content-type': _omitted, ...headers } = svixHeaders(aeSecret, body);
      await expectRejected(() => rawPost(`/hooks/${aeId}`, body, headers), 415, /application\/json/);
    });

    it('answers 415, not 401, for a wrong content type with a bad signature (415 is checked first)', async () => {
      const body = aeBody();
      const headers = { ...svixHeaders(whsec(), body), 'content-type': 'text/plain' };
      await expectRejected(() => hook(aeId).set(headers).send(body.toString()), 415);
    });
  });

  describe('body → 400', () => {
    it('answers 400 for malformed JSON that is correctly signed', async () => {
      const body = Buffer.from('{"id": "evt_broken", "type": ');
      await expectRejected(() => hook(aeId).set(svixHeaders(aeSecret, body)).send(body.toString()), 400, /JSON/);
    });

    it('answers 401, not 400, for malformed JSON with a bad signature (verification before parsing)', async () => {
      const body = Buffer.from('{"id": "evt_broken", "type": ');
      await expectRejected(() => hook(aeId).set(svixHeaders(whsec(), body)).send(body.toString()), 401, /signature/i);
    });

    it("answers 400 for signed JSON without the connector's event type field", async () => {
      const body = Buffer.from(JSON.stringify({ id: 'evt_x', data: {} }));
      await expectRejected(() => hook(aeId).set(svixHeaders(aeSecret, body)).send(body.toString()), 400);
    });
  });

  describe('hmac-sha256 (Asan)', () => {
    it('accepts a valid X-Asan-Signature with 202', async () => {
      const body = sample('asan', 'lead.created.json');
      const response = await hook(asanId).set(asanHeaders(asanSecret, body)).send(body.toString()).expect(202);
      expect(response.body).toEqual({ id: expect.stringMatching(/^in_/) });
    });

    it('rejects a wrong X-Asan-Signature with 401', async () => {
      const body = sample('asan', 'lead.status_changed.json');
      await expectRejected(
        () => hook(asanId).set(asanHeaders('not-the-secret', body)).send(body.toString()),
        401,
        /signature/i,
      );
    });
  });

  describe('header-token (telephony)', () => {
    it('accepts the right X-Webhook-Token with 202 and does not store the token header', async () => {
      const body = sample('telephony', 'call_initiated.json');
      const response = await hook(telId)
        .set({ 'content-type': 'application/json', 'x-webhook-token': telToken })
        .send(body.toString())
        .expect(202);
      const [row] = await hub.sql<{ headers: Record<string, string> }>(
        'SELECT headers FROM inbound_event WHERE id = $1',
        [response.body.id],
      );
      expect(row.headers['content-type']).toBe('application/json');
      expect(Object.keys(row.headers).map((h) => h.toLowerCase())).not.toContain('x-webhook-token');
      expect(JSON.stringify(row.headers)).not.toContain(telToken);
    });

    it('rejects a wrong X-Webhook-Token with 401', async () => {
      const body = sample('telephony', 'call_ringing.json');
      await expectRejected(
        () =>
          hook(telId)
            .set({ 'content-type': 'application/json', 'x-webhook-token': 'tel-token-WRONG!' })
            .send(body.toString()),
        401,
      );
    });

    it('rejects a missing X-Webhook-Token with 401', async () => {
      const body = sample('telephony', 'call_ringing.json');
      await expectRejected(
        () => hook(telId).set('content-type', 'application/json').send(body.toString()),
        401,
        /X-Webhook-Token/,
      );
    });
  });

  it('still accepts a valid delivery afterwards, and counts rejections in /metrics', async () => {
    const body = aeBody();
    const response = await hook(aeId).set(svixHeaders(aeSecret, body)).send(body.toString()).expect(202);
    expect(response.body).toEqual({ id: expect.stringMatching(/^in_/) });

    const metrics = await request(hub.baseUrl).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^switchboard_ingest_total\{[^}]*outcome="rejected"[^}]*\} [1-9]/m);
    expect(metrics.text).toMatch(
      /^switchboard_ingest_total\{[^}]*outcome="rejected",reason="verification_failed"\} [1-9]/m,
    );
  });
});
