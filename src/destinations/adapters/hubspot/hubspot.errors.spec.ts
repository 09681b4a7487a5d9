import { OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import { classifyHubspotAnswer, HubspotErrorCode, outcomeOfHubspotError } from './hubspot.errors';

const answer = (r: Partial<OutboundResult>): OutboundResult => ({ durationMs: 1, ...r });
const body = (category: string, message: string, extra: object = {}) =>
  JSON.stringify({ status: 'error', message, correlationId: 'c', category, ...extra });

describe(classifyHubspotAnswer.name, () => {
  it('retries 429 RATE_LIMIT after Retry-After, else after the interval header', () => {
    const sut = classifyHubspotAnswer(
      answer({
        statusCode: 429,
        body: body('RATE_LIMIT', 'You have reached your ten_secondly_rolling limit.'),
        headers: { 'x-hubspot-ratelimit-interval-milliseconds': '10000' },
      }),
    )!;
    expect(sut).toMatchObject({ code: HubspotErrorCode.RateLimited, afterMs: 10_000 });
    expect(sut.message).toBe('HubSpot 429 RATE_LIMIT: You have reached your ten_secondly_rolling limit.');
    expect(classifyHubspotAnswer(answer({ statusCode: 429, retryAfterSeconds: 2 }))!.afterMs).toBe(2000);
    expect(outcomeOfHubspotError(sut, { durationMs: 1 })).toMatchObject({ outcome: 'retry', afterMs: 10_000 });
  });

  it("retries 5xx and network failures; fails validation, auth and conflicts with HubSpot's message", () => {
    expect(classifyHubspotAnswer(answer({ statusCode: 502 }))!.code).toBe(HubspotErrorCode.Unavailable);
    const network = classifyHubspotAnswer(answer({ error: 'socket hang up', errorCode: OutboundErrorCode.Network }))!;
    expect(outcomeOfHubspotError(network, { durationMs: 1 }).outcome).toBe('retry');
    const invalid = classifyHubspotAnswer(
      answer({ statusCode: 400, body: body('VALIDATION_ERROR', 'Property values were not valid') }),
    )!;
    expect(outcomeOfHubspotError(invalid, { durationMs: 1 })).toMatchObject({
      outcome: 'failed',
      reason: 'HubSpot 400 VALIDATION_ERROR: Property values were not valid',
    });
    expect(classifyHubspotAnswer(answer({ statusCode: 401 }))!.code).toBe(HubspotErrorCode.Unauthorized);
    expect(classifyHubspotAnswer(answer({ statusCode: 409 }))!.code).toBe(HubspotErrorCode.Conflict);
    expect(classifyHubspotAnswer(answer({ refused: true, error: 'private address' }))!.code).toBe(
      HubspotErrorCode.Refused,
    );
    expect(classifyHubspotAnswer(answer({ statusCode: 207 }))).toBeUndefined();
  });
});
