import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import type { Logger } from 'pino';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { AttemptOutcome } from '../delivery/delivery-attempt.entity';
import { ClaimedDelivery, DeliveryService, DESTINATION_DISABLED } from '../delivery/delivery.service';
import { AdapterOutcome } from '../destinations/adapters/destination-adapter';
import { DestinationAdapters } from '../destinations/adapters/destination-adapters';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { DestinationGate } from './destination-gate';
import { DESTINATION_BUSY_DELAY_MS, DESTINATION_BUSY_MAX_DELAY_MS, QueueName } from './pipeline.constants';
import { DeliverJobData } from './pipeline.queue';
import { PipelineWorkerHost } from './pipeline-worker-host';
import { nextDelayMs, RetryDeliveryError } from './retry-policy';

export type DeliverOutcome =
  'succeeded' | 'failed' | 'exhausted' | 'superseded' | 'unchanged' | 'skipped' | 'lost-lease';

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
export class DeliverJob extends PipelineWorkerHost implements OnApplicationBootstrap {
  private readonly gate = new DestinationGate();

  constructor(
    private readonly deliveries: DeliveryService,
    private readonly canonical: CanonicalEventService,
    private readonly destinations: DestinationService,
    private readonly adapters: DestinationAdapters,
    private readonly metrics: MetricsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) protected readonly logger: Logger,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.startWorker(QueueName.Deliver, this.config.deliveryConcurrency);
  }

  get leaseSeconds(): number {
    return this.config.deliveryTimeoutSeconds + LEASE_MARGIN_SECONDS;
  }

  async process(job: Job<DeliverJobData>, token?: string): Promise<DeliverOutcome> {
    const { deliveryId } = job.data;
    const destinationId = job.data.destinationId ?? (await this.deliveries.destinationOf(deliveryId));
    if (!destinationId) return 'skipped';
    const destination = await this.destinations.findCached(destinationId);
    const cap = (destination && this.adapters.get(destination.type).maxInFlight) ?? this.config.destinationConcurrency;
    const release = this.gate.tryAcquire(destinationId, cap);
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
      const reason = !event ? 'canonical event no longer exists' : DESTINATION_DISABLED;
      return this.record(delivery, { outcome: 'failed', reason, durationMs: 0 });
    }
    let result: AdapterOutcome;
    try {
      result = await this.adapters.get(destination.type).deliver({
        delivery,
        destination,
        config: destination.type === 'webhook' ? {} : this.destinations.openConfig(destination),
        event,
        deadlineMs: this.config.deliveryTimeoutSeconds * 1000,
      });
    } catch (err) {
      // An adapter classifies what it knows; anything it did not expect is worth another try, recorded.
      result = { outcome: 'retry', reason: `adapter error: ${(err as Error).message}`, durationMs: 0 };
    }
    if (result.outcome !== 'retry') {
      const recorded = await this.record(delivery, result);
      if (result.outcome === 'failed' && result.disable && recorded !== 'lost-lease') {
        await this.destinations.disable(destination.id, result.disable);
      }
      return recorded;
    }
    const schedule = destination.retrySchedule ?? this.config.retryScheduleSeconds;
    const afterSeconds = result.afterMs === undefined ? undefined : result.afterMs / 1000;
    // A manual retry or replay starts the schedule over (retry_base); attempt numbers keep counting.
    const delayMs = nextDelayMs(schedule, delivery.attempts - (delivery.retryBase ?? 0), afterSeconds);
    if (delayMs === undefined) return this.record(delivery, { ...result, outcome: 'exhausted' });
    const recorded = await this.record(delivery, result, new Date(Date.now() + delayMs));
    if (recorded === 'lost-lease') return recorded;
    throw new RetryDeliveryError(delayMs, `attempt ${delivery.attempts} failed: ${result.reason}`);
  }

  /** Records the attempt under the lease; a worker that lost its lease records nothing. */
  private async record(
    delivery: ClaimedDelivery,
    result:
      AdapterOutcome | (Omit<Extract<AdapterOutcome, { outcome: 'retry' }>, 'outcome'> & { outcome: 'exhausted' }),
    nextAttemptAt?: Date,
  ): Promise<DeliverOutcome> {
    const outcome: AttemptOutcome = result.outcome;
    const error = result.outcome === 'succeeded' ? null : result.reason;
    const detail = 'statusCode' in result ? result : undefined;
    const recorded = await this.deliveries.record(delivery, {
      outcome,
      statusCode: detail?.statusCode,
      responseBody: detail?.responseBody,
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
      { deliveryId: delivery.id, attempt: delivery.attempts, statusCode: detail?.statusCode, outcome, error },
      'delivery attempt',
    );
    return outcome === 'retry' ? 'failed' : outcome;
  }

  protected override isExpectedFailure(err: Error): boolean {
    // Scheduled retries are logged by the attempt itself.
    return err instanceof RetryDeliveryError;
  }
}
