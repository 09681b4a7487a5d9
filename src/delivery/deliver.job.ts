import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { OutboundClient, OutboundResult as SendResult } from '../outbound/outbound.client';
import { AttemptOutcome } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { nextDelayMs, RetryDeliveryError } from './retry-policy';

export interface DeliverJobData {
  deliveryId: string;
}

export type DeliverOutcome = 'succeeded' | 'failed' | 'exhausted' | 'skipped';

/** How long a claimed delivery stays `sending` before the reconciler may take it back (> the 15 s timeout). */
export const LEASE_SECONDS = 60;

/**
 * One attempt at one delivery. The row is claimed first (status → sending with a lease), so a job re-enqueued
 * after a Redis flush can never send the same delivery twice at once. Every attempt is recorded. A retryable
 * failure is rethrown as RetryDeliveryError so BullMQ schedules the next attempt (STYLE habit 5).
 */
@Injectable()
export class DeliverJob {
  constructor(
    private readonly dataSource: DataSource,
    private readonly destinations: DestinationService,
    private readonly metrics: MetricsService,
    private readonly outbound: OutboundClient,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async handle(job: Job<DeliverJobData>): Promise<DeliverOutcome> {
    return this.run(job.data.deliveryId);
  }

  async run(deliveryId: string): Promise<DeliverOutcome> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [claimed]: [DeliveryEntity[], number] = await this.dataSource.query(
      `UPDATE delivery SET status = 'sending', attempts = attempts + 1,
              locked_until = now() + make_interval(secs => $2), updated_at = now()
       WHERE id = $1 AND (status IN ('pending', 'retrying') OR (status = 'sending' AND locked_until < now()))
       RETURNING id, destination_id AS "destinationId", canonical_event_id AS "canonicalEventId", attempts`,
      [deliveryId, LEASE_SECONDS],
    );
    if (!claimed.length) return 'skipped';
    const delivery = claimed[0];
    const destination = await this.dataSource
      .getRepository(DestinationEntity)
      .findOneBy({ id: delivery.destinationId });
    const [{ event }]: { event: CloudEvent }[] = await this.dataSource.query(
      'SELECT event FROM canonical_event WHERE id = $1',
      [delivery.canonicalEventId],
    );

    if (!destination || destination.status !== 'active') {
      await this.record(delivery, { durationMs: 0, error: 'destination is disabled' }, 'failed');
      return 'failed';
    }

    const result = await this.send(delivery, destination, event);
    const schedule = destination.retrySchedule ?? this.config.retryScheduleSeconds;
    const status = result.statusCode;

    if (status !== undefined && status >= 200 && status < 300) {
      await this.record(delivery, result, 'succeeded');
      return 'succeeded';
    }
    if (status === 410) {
      // 410 Gone: the receiver asks us to stop. Disable the destination rather than retry into the void.
      await this.record(delivery, result, 'failed');
      await this.destinations.disable(
        destination.id,
        `410 Gone from ${destination.url} at ${new Date().toISOString()}`,
      );
      return 'failed';
    }
    if (result.refused) {
      await this.record(delivery, result, 'failed');
      return 'failed';
    }
    // 3xx (redirects are not followed), 4xx, 5xx and transport errors are retried on the schedule.
    const delayMs = nextDelayMs(schedule, delivery.attempts, result.retryAfterSeconds);
    if (delayMs === undefined) {
      await this.record(delivery, result, 'exhausted');
      return 'exhausted';
    }
    await this.record(delivery, result, 'retry', new Date(Date.now() + delayMs));
    throw new RetryDeliveryError(delayMs, `attempt ${delivery.attempts} failed: ${errorOf(result)}`);
  }

  private send(delivery: DeliveryEntity, destination: DestinationEntity, event: CloudEvent): Promise<SendResult> {
    const body = JSON.stringify(event);
    const now = new Date();
    // Standard Webhooks: webhook-id is the delivery id (stable across retries), and during a secret rotation
    // every live secret signs, space-separated, so receivers on either secret verify.
    const signature = this.destinations
      .signingSecrets(destination)
      .map((secret) => new Webhook(secret).sign(delivery.id, now, body))
      .join(' ');
    const headers = {
      ...this.destinations.headers(destination),
      'user-agent': 'Switchboard-Webhooks/0.1',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    return this.outbound.request({
      method: 'POST',
      url: destination.url,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
  }

  private async record(delivery: DeliveryEntity, result: SendResult, outcome: AttemptOutcome, nextAttemptAt?: Date) {
    const status = outcome === 'retry' ? 'retrying' : outcome;
    const error = errorOf(result);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, duration_ms, status_code, response_body, error, outcome, next_attempt_at)
         VALUES ($1, $2, now() - make_interval(secs => $4::float / 1000), $4, $3, $5, $6, $7, $8)`,
        [
          delivery.id,
          delivery.attempts,
          result.statusCode ?? null,
          result.durationMs,
          result.body ?? null,
          error,
          outcome,
          nextAttemptAt ?? null,
        ],
      );
      await manager.query(
        `UPDATE delivery SET status = $2, next_attempt_at = $3, locked_until = NULL, last_error = $4, updated_at = now() WHERE id = $1`,
        [delivery.id, status, nextAttemptAt ?? null, error],
      );
    });
    this.metrics.deliveryAttempts.inc({ outcome });
    this.metrics.deliveryDuration.observe(result.durationMs / 1000);
    this.logger.info(
      { deliveryId: delivery.id, attempt: delivery.attempts, statusCode: result.statusCode, outcome, error },
      'delivery attempt',
    );
  }
}

/** What went wrong with an attempt: the transport error, or the non-2xx status; null for a success. */
function errorOf(result: SendResult): string | null {
  if (result.error) return result.error;
  const status = result.statusCode;
  return status !== undefined && (status < 200 || status >= 300) ? `HTTP ${status}` : null;
}
