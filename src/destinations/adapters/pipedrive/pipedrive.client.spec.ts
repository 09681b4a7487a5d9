import ipaddr from 'ipaddr.js';
import { OutboundClient } from '../../../outbound/outbound.client';
import { PipedriveFake, startPipedriveFake } from '../../../../test/fakes/pipedrive.fake';
import { Deadline, PipedriveClient } from './pipedrive.client';
import { classifyFailure, isAmbiguous, isRetryable, PipedriveErrorCode } from './pipedrive.errors';
import { OutboundErrorCode } from '../../../outbound/outbound.client';

const LOOPBACK: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('127.0.0.0/8')];

describe(PipedriveClient.name, () => {
  let fake: PipedriveFake;
  let outbound: OutboundClient;
  let sut: PipedriveClient;

  beforeEach(async () => {
    // 5 requests per second: Pipedrive's budget shape (per rolling window), scaled down.
    fake = await startPipedriveFake({ rateLimit: { limit: 5, windowMs: 1000 } });
    outbound = new OutboundClient(LOOPBACK);
    sut = new PipedriveClient(outbound);
  });

  afterEach(async () => {
    outbound.close();
    await fake.stop();
  });

  const settings = () => ({ destinationId: 'dst_1', baseUrl: fake.url, token: fake.token });

  it('sends x-api-token and reads {success, data, additional_data}', async () => {
    const answer = await sut.call(
      settings(),
      { method: 'GET', path: '/api/v2/persons/search', query: { term: 'a@b.co', fields: 'email', exact_match: true } },
      new Deadline(5000),
    );
    expect(answer).toMatchObject({ ok: true, data: { items: [] }, additional: { next_cursor: null }, statusCode: 200 });
    expect(fake.requests[0]).toMatchObject({
      token: fake.token,
      query: { term: 'a@b.co', fields: 'email', exact_match: 'true' },
    });
  });

  it('slows down on x-ratelimit-remaining before Pipedrive says 429', async () => {
    const answers = [];
    for (let i = 0; i < 12; i++) {
      answers.push(await sut.call(settings(), { method: 'GET', path: '/api/v2/persons' }, new Deadline(10_000)));
    }
    expect(answers.filter((a) => !a.ok)).toEqual([]);
    expect(sut.health()).toMatchObject({ dst_1: { max: 5 } });
  });

  it('gives a spent budget back as a rate-limit retry instead of waiting past the deadline', async () => {
    fake.inject({ kind: 'throttle', retryAfterSeconds: 30 });
    const first = await sut.call(settings(), { method: 'GET', path: '/api/v2/persons' }, new Deadline(5000));
    expect(first).toMatchObject({ ok: false, code: PipedriveErrorCode.RateLimited, afterMs: 30_000, statusCode: 429 });
    const second = await sut.call(settings(), { method: 'GET', path: '/api/v2/persons' }, new Deadline(2000));
    expect(second).toMatchObject({ ok: false, code: PipedriveErrorCode.RateLimited });
    expect((second as { afterMs: number }).afterMs).toBeGreaterThan(20_000);
    // The second call never reached Pipedrive.
    expect(fake.requests).toHaveLength(1);
  });
});

describe('Pipedrive error classes', () => {
  const answer = (statusCode: number | undefined, body?: unknown, extra = {}) => ({
    statusCode,
    body: body === undefined ? undefined : JSON.stringify(body),
    durationMs: 1,
    ...extra,
  });

  it.each([
    [429, PipedriveErrorCode.RateLimited, true, false],
    [500, PipedriveErrorCode.Server, true, true],
    [503, PipedriveErrorCode.Server, true, true],
    [400, PipedriveErrorCode.Validation, false, false],
    [422, PipedriveErrorCode.Validation, false, false],
    [401, PipedriveErrorCode.Unauthorized, false, false],
    [402, PipedriveErrorCode.Forbidden, false, false],
    [403, PipedriveErrorCode.Forbidden, false, false],
    [404, PipedriveErrorCode.NotFound, false, false],
    [301, PipedriveErrorCode.Unexpected, false, false],
  ])('HTTP %i is %s (retryable %s, ambiguous %s)', (status, code, retryable, ambiguous) => {
    const error = classifyFailure(answer(status, { success: false, error: 'Boom', error_info: 'Details' }));
    expect(error.code).toBe(code);
    expect(error.message).toContain('Boom: Details');
    expect(isRetryable(error.code)).toBe(retryable);
    expect(isAmbiguous(error.code)).toBe(ambiguous);
  });

  it('no answer: a timeout and a dropped connection are retryable and ambiguous; a refused target is neither', () => {
    const timedOut = classifyFailure(
      answer(undefined, undefined, { errorCode: OutboundErrorCode.TimedOut, error: 't' }),
    );
    const dropped = classifyFailure(
      answer(undefined, undefined, { errorCode: OutboundErrorCode.Network, error: 'reset' }),
    );
    const refused = classifyFailure(answer(undefined, undefined, { errorCode: OutboundErrorCode.Refused, error: 'r' }));
    expect([timedOut.code, dropped.code, refused.code]).toEqual([
      PipedriveErrorCode.TimedOut,
      PipedriveErrorCode.Network,
      PipedriveErrorCode.Refused,
    ]);
    expect([timedOut, dropped, refused].map((e) => [isRetryable(e.code), isAmbiguous(e.code)])).toEqual([
      [true, true],
      [true, true],
      [false, false],
    ]);
  });

  it('429 carries Retry-After as afterMs', () => {
    expect(
      classifyFailure(answer(429, { success: false, error: 'Request over limit' }, { retryAfterSeconds: 7 })),
    ).toMatchObject({
      code: PipedriveErrorCode.RateLimited,
      afterMs: 7000,
    });
  });
});
