import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { AttemptOutcome } from '../delivery/delivery-attempt.entity';
import { ClaimedDelivery, DeliveryService } from '../delivery/delivery.service';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { OutboundClient, OutboundErrorCode, OutboundResult } from '../outbound/outbound.client';
import { DestinationGate } from './destination-gate';
import { DESTINATION_BUSY_DELAY_MS, DESTINATION_BUSY_MAX_DELAY_MS, QueueName } from './pipeline.constants';
import { DeliverJobData } from './pipeline.queue';
import { nextDelayMs, RetryDeliveryError } from './retry-policy';

export type DeliverOutcome = 'succeeded' | 'failed' | 'exhausted' | 'skipped' | 'lost-lease';

/** The lease outlives the attempt's hard deadline by this much, so a live attempt never loses its lease. */
const LEASE_MARGIN_SECONDS = 10;

/**
 * One attempt at one delivery. Only while its destination has fewer than HUB_DESTINATION_CONCURRENCY attempts in
 * flight in this process (a destination at its cap makes the job wait without spending an attempt, so slow
 * receivers hold a few slots each but never every slot), the row is claimed (status → sending with a lease).
 * Every attempt is recorded, fenced by the lease. A retryable failure is rethrown as RetryDeliveryError so BullMQ
 * schedules the next attempt (STYLE habit 5).
 */
@Processor(QueueName.Deliver, {
  autorun: false,
  settings: {
    // The job computed the delay (schedule, jitter, Retry-After); other errors (Postgres down) back off gently.
    backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
      err instanceof RetryDeliveryError ? err.delayMs : Math.min(60_000, 1000 * 2 ** attemptsMade),
  },
})
export class DeliverJob extends WorkerHost implements OnApplicationBootstrap {
  private readonly gate: DestinationGate;

  constructor(
    private readonly deliveries: DeliveryService,
    private readonly canonical: CanonicalEventService,
    private readonly destinations: DestinationService,
    private readonly outbound: OutboundClient,
    private readonly metrics: MetricsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    super();
    this.gate = new DestinationGate(config.destinationConcurrency);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.deliveryConcurrency;
    this.worker.run().catch((err: Error) => this.logger.error({ err: err.message }, 'deliver worker stopped'));
  }

  get leaseSeconds(): number {
    return this.config.deliveryTimeoutSeconds + LEASE_MARGIN_SECONDS;
  }

  async process(job: Job<DeliverJobData>, token?: string): Promise<DeliverOutcome> {
    const { deliveryId } = job.data;
    const destinationId = job.data.destinationId ?? (await this.deliveries.destinationOf(deliveryId));
    if (!destinationId) return 'skipped';
    const release = this.gate.tryAcquire(destinationId);
    if (!release) {
      // The destination has its cap of attempts in flight. BullMQ: move the job back to delayed and throw
      // DelayedError, which spends no attempt. The wait doubles while the destination stays busy (a long backlog
      // must not churn through Redis), up to a couple of seconds.
      const waits = job.data.waits ?? 0;
      await job.updateData({ ...job.data, destinationId, waits: waits + 1 });
      const delayMs = Math.min(DESTINATION_BUSY_DELAY_MS * 2 ** waits, DESTINATION_BUSY_MAX_DELAY_MS);
      await job.moveToDelayed(Date.now() + Math.round(delayMs * (0.5 + Math.random())), token);
      throw new DelayedError();
    }
    try {
      return await this.run(deliveryId);
    } finally {
      release();
    }
  }

  async run(deliveryId: string): Promise<DeliverOutcome> {
    const claim = await this.deliveries.claim(deliveryId, this.leaseSeconds);
    if (claim.kind === 'gone') return 'skipped';
    const delivery = claim.delivery;

    const destination = await this.destinations.find(delivery.destinationId);
    const event = await this.canonical.get(delivery.canonicalEventId);
    if (!destination || destination.status !== 'active' || !event) {
      const error = !event ? 'canonical event no longer exists' : 'destination is disabled';
      return this.record(delivery, { durationMs: 0, error }, 'failed');
    }

    const result = await this.send(delivery, destination, event);
    const status = result.statusCode;

    if (status !== undefined && status >= 200 && status < 300) return this.record(delivery, result, 'succeeded');
    if (status === 410) {
      // 410 Gone: the receiver asks us to stop. Disable the destination rather than retry into the void.
      const outcome = await this.record(delivery, result, 'failed');
      await this.destinations.disable(
        destination.id,
        `410 Gone from ${destination.url} at ${new Date().toISOString()}`,
      );
      return outcome;
    }
    // A refused target or a header Node cannot send fails the same way on every attempt: no retry.
    if (result.refused || result.errorCode === OutboundErrorCode.InvalidRequest) {
      return this.record(delivery, result, 'failed');
    }
    // 3xx (redirects are not followed), 4xx, 5xx and transport errors are retried on the schedule.
    const schedule = destination.retrySchedule ?? this.config.retryScheduleSeconds;
    const delayMs = nextDelayMs(schedule, delivery.attempts, result.retryAfterSeconds);
    if (delayMs === undefined) return this.record(delivery, result, 'exhausted');
    const recorded = await this.record(delivery, result, 'retry', new Date(Date.now() + delayMs));
    if (recorded === 'lost-lease') return recorded;
    throw new RetryDeliveryError(delayMs, `attempt ${delivery.attempts} failed: ${errorOf(result)}`);
  }

  private send(delivery: ClaimedDelivery, destination: DestinationEntity, event: CloudEvent): Promise<OutboundResult> {
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
      deadlineMs: this.config.deliveryTimeoutSeconds * 1000,
    });
  }

  /** Records the attempt under the lease; a worker that lost its lease records nothing. */
  private async record(
    delivery: ClaimedDelivery,
    result: OutboundResult,
    outcome: AttemptOutcome,
    nextAttemptAt?: Date,
  ): Promise<DeliverOutcome> {
    const error = errorOf(result);
    const recorded = await this.deliveries.record(delivery, {
      outcome,
      statusCode: result.statusCode,
      responseBody: result.body,
      durationMs: result.durationMs,
      error,
      nextAttemptAt,
    });
    if (!recorded) {
      this.logger.warn(
        { deliveryId: delivery.id, attempt: delivery.attempts },
        'delivery lease lost; attempt not recorded',
      );
      return 'lost-lease';
    }
    this.metrics.deliveryAttempts.inc({ outcome });
    this.metrics.deliveryDuration.observe(result.durationMs / 1000);
    this.logger.info(
      { deliveryId: delivery.id, attempt: delivery.attempts, statusCode: result.statusCode, outcome, error },
      'delivery attempt',
    );
    return outcome === 'retry' ? 'failed' : outcome;
  }

  /** BullMQ emits connection trouble (Redis down, a job flushed away mid-run) as 'error'; unheard, it would throw. */
  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn({ err: err?.message }, 'deliver worker error');
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliverJobData> | undefined, err: Error): void {
    // Expected retries are logged by the attempt itself; anything else (Postgres down) is worth a warning.
    if (err?.name !== 'RetryDeliveryError') {
      this.logger.warn({ err: err?.message, jobId: job?.id, attempt: job?.attemptsMade }, 'deliver job failed');
    }
  }
}

/** What went wrong with an attempt: the transport error, or the non-2xx status; null for a success. */
function errorOf(result: OutboundResult): string | null {
  if (result.error) return result.error;
  const status = result.statusCode;
  return status !== undefined && (status < 200 || status >= 300) ? `HTTP ${status}` : null;
}
