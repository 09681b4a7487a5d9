import { Inject, Injectable } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { OutboundClient, OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import { DestinationService } from '../../destination.service';
import { AdapterOutcome, DeliveryContext, DestinationAdapter } from '../destination-adapter';

/**
 * Standard Webhooks delivery of the CloudEvent (DESIGN §5): `webhook-id` is the delivery id (stable across
 * retries), and during a secret rotation every live secret signs, space-separated, so receivers on either secret
 * verify. 2xx succeeds; 410 Gone disables the destination; a refused target or a header Node cannot send fails at
 * once; everything else (3xx, since redirects are not followed, 4xx, 5xx, network) is retried.
 */
@Injectable()
export class WebhookAdapter implements DestinationAdapter {
  readonly type = 'webhook' as const;

  constructor(
    @Inject(DestinationService) private readonly destinations: DestinationService,
    private readonly outbound: OutboundClient,
  ) {}

  async deliver({ delivery, destination, event, deadlineMs }: DeliveryContext): Promise<AdapterOutcome> {
    const body = JSON.stringify(event);
    const now = new Date();
    const signature = this.destinations
      .signingSecrets(destination)
      .map((secret) => new Webhook(secret).sign(delivery.id, now, body))
      .join(' ');
    const result = await this.outbound.request({
      method: 'POST',
      url: destination.url!,
      headers: {
        ...this.destinations.headers(destination),
        'user-agent': 'Switchboard-Webhooks/0.1',
        'content-type': 'application/json',
        'webhook-id': delivery.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      deadlineMs,
    });
    return webhookOutcome(result, destination.url!);
  }
}

export function webhookOutcome(result: OutboundResult, url: string): AdapterOutcome {
  const detail = { statusCode: result.statusCode, responseBody: result.body, durationMs: result.durationMs };
  const status = result.statusCode;
  if (status !== undefined && status >= 200 && status < 300) return { outcome: 'succeeded', ...detail };
  if (status === 410) {
    // 410 Gone: the receiver asks us to stop. Disable the destination rather than retry into the void.
    return {
      outcome: 'failed',
      reason: 'HTTP 410',
      disable: `410 Gone from ${url} at ${new Date().toISOString()}`,
      ...detail,
    };
  }
  if (result.refused || result.errorCode === OutboundErrorCode.InvalidRequest) {
    return { outcome: 'failed', reason: result.error ?? 'refused', ...detail };
  }
  return {
    outcome: 'retry',
    reason: result.error ?? `HTTP ${status}`,
    afterMs: result.retryAfterSeconds === undefined ? undefined : result.retryAfterSeconds * 1000,
    ...detail,
  };
}
