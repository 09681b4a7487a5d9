import { OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import { webhookOutcome } from './webhook.adapter';

const URL = 'https://receiver.example/hook';
const result = (r: Partial<OutboundResult>): OutboundResult => ({ durationMs: 3, ...r });

describe(webhookOutcome.name, () => {
  it('succeeds on any 2xx', () => {
    expect(webhookOutcome(result({ statusCode: 204 }), URL)).toMatchObject({ outcome: 'succeeded', statusCode: 204 });
  });

  it('fails and disables the destination on 410 Gone', () => {
    const outcome = webhookOutcome(result({ statusCode: 410 }), URL);
    expect(outcome).toMatchObject({ outcome: 'failed', disable: expect.stringMatching(/^410 Gone from https/) });
  });

  it('fails at once on a refused target or a header Node cannot send', () => {
    expect(webhookOutcome(result({ refused: true, error: 'private address' }), URL)).toMatchObject({
      outcome: 'failed',
      reason: 'private address',
    });
    const invalid = result({ error: 'bad header', errorCode: OutboundErrorCode.InvalidRequest });
    expect(webhookOutcome(invalid, URL)).toMatchObject({ outcome: 'failed' });
  });

  it('retries 3xx, 4xx, 5xx and network errors, passing Retry-After on', () => {
    expect(webhookOutcome(result({ statusCode: 302 }), URL)).toMatchObject({ outcome: 'retry', reason: 'HTTP 302' });
    expect(webhookOutcome(result({ statusCode: 429, retryAfterSeconds: 30 }), URL)).toMatchObject({
      outcome: 'retry',
      afterMs: 30_000,
    });
    expect(webhookOutcome(result({ error: 'timed out after 15000 ms', timedOut: true }), URL)).toMatchObject({
      outcome: 'retry',
      reason: 'timed out after 15000 ms',
    });
  });
});
