import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { Job } from 'bullmq';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { AttemptOutcome } from '../delivery/delivery-attempt.entity';
import type { CloudEvent } from '../canonical/cloud-event';
import { Claim, ClaimedDelivery, DeliveryService, DESTINATION_DISABLED } from '../delivery/delivery.service';
import { AdapterOutcome } from '../destinations/adapters/destination-adapter';
import { DestinationAdapters } from '../destinations/adapters/destination-adapters';
import { DestinationService } from '../destinations/destination.service';
import { MetricsService } from '../metrics/metrics.service';
import { DestinationGate, SlotLimit } from './destination-gate';
import { InFlight } from './in-flight';
import { DESTINATION_WAIT_MS, DISPATCH_MAX_WAITERS, DISPATCH_WAIT_MS, QueueName } from './pipeline.constants';
import { DeliverJobData, PipelineQueue } from './pipeline.queue';
import { ownDelayBackoff, PipelineWorkerHost } from './pipeline-worker-host';
import { nextDelayMs, RetryDeliveryError } from './retry-policy';

export type DeliverOutcome =
  'succeeded' | 'failed' | 'exhausted' | 'superseded' | 'unchanged' | 'skipped' | 'lost-lease';

type Claimed = Extract<Claim, { kind: 'claimed' }>;

/**
 * What an attempt tells its destination's adaptive limit (DestinationGate): it went well, it did not, or nothing was
 * sent (the delivery was already done or taken by another worker).
 */
function slotOutcome(outcome: DeliverOutcome): boolean | undefined {
  return outcome === 'skipped' ? undefined : outcome === 'succeeded';
}

/** The lease outlives the attempt's hard deadline by this much, so a live attempt never loses its lease. */
const LEASE_MARGIN_SECONDS = 10;

/**
 * One attempt at one delivery. Only while its destination has fewer than its limit of attempts in flight in this
 * process (DestinationGate: HUB_DESTINATION_CONCURRENCY, growing while the receiver answers fast; a destination at
 * its limit makes the job wait without spending an attempt, so slow receivers hold a few slots each but never every
 * slot), the row is claimed (status → sending with a lease).
 * Every attempt is recorded, fenced by the lease. A retryable failure is rethrown as RetryDeliveryError so BullMQ
 * schedules the next attempt (STYLE habit 5).
 */
@Processor(QueueName.Deliver, {
  autorun: false,
  settings: {
    // The job computed the delay (schedule, jitter, Retry-After); other errors (Postgres down) back off gently.
    backoffStrategy: ownDelayBackoff(RetryDeliveryError),
  },
})
export class DeliverJob extends PipelineWorkerHost implements OnApplicationBootstrap {
  private readonly gate = new DestinationGate();
  /** First attempts started straight from normalisation, not yet finished. */
  private readonly inline = new InFlight();

  constructor(
    private readonly deliveries: DeliveryService,
    private readonly destinations: DestinationService,
    private readonly adapters: DestinationAdapters,
    private readonly queue: PipelineQueue,
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

  /**
   * Issue 11: deliveries normalisation just committed get their first attempt here, without a trip through Redis.
   * Each takes a slot of its destination in this process (the same DestinationGate and limit as queued jobs, so
   * isolation holds), waiting for one up to DISPATCH_WAIT_MS behind at most DISPATCH_MAX_WAITERS others; one that
   * gets no slot by then goes to the queue for the destination's next free turn. At most HUB_DELIVERY_CONCURRENCY
   * deliveries are started here at a time, waiting or sending. The attempt is the queued job's: claimed under a
   * lease, recorded, and a retry goes to the queue with its delay. Postgres stays the truth: a crash leaves a
   * pending row or an expiring lease for the reconciler. Returns the deliveries not started, for the caller to
   * enqueue.
   */
  async dispatch(
    deliveries: { id: string; destinationId: string }[],
  ): Promise<{ id: string; destinationId: string }[]> {
    const rest: { id: string; destinationId: string }[] = [];
    for (const delivery of deliveries) {
      if (this.inline.closing || this.inline.size >= this.config.deliveryConcurrency) {
        rest.push(delivery);
        continue;
      }
      const limit = await this.limitOf(delivery.destinationId);
      this.inline.add(
        this.gate
          .acquire(delivery.destinationId, limit, DISPATCH_WAIT_MS, DISPATCH_MAX_WAITERS)
          .then((release) =>
            release
              ? this.attemptNow(delivery, release)
              : this.enqueue(delivery, this.gate.nextTurn(delivery.destinationId, limit)),
          ),
      );
    }
    return rest;
  }

  /** Shutdown: no new inline attempts; waits for the waiting and running ones (their leases cover a worse end). */
  drainInline(): Promise<void> {
    return this.inline.drain();
  }

  /**
   * Issue 11, claim at insert: takes a slot now for each of these deliveries (about to be written) whose destination
   * has one free in this process, while fewer than HUB_DELIVERY_CONCURRENCY deliveries are started in-process.
   * Normalisation writes the ones reserved already claimed, then hands them to startClaimed. Returns each reserved
   * delivery's release.
   */
  async reserve(deliveries: { id: string; destinationId: string }[]): Promise<Map<string, (ok?: boolean) => void>> {
    const reserved = new Map<string, (ok?: boolean) => void>();
    try {
      for (const delivery of deliveries) {
        if (this.inline.closing || this.inline.size + reserved.size >= this.config.deliveryConcurrency) break;
        const release = this.gate.tryAcquire(delivery.destinationId, await this.limitOf(delivery.destinationId));
        if (release) reserved.set(delivery.id, release);
      }
    } catch (err) {
      // The destination's settings could not be read (Postgres down): give back what was taken.
      for (const release of reserved.values()) release();
      throw err;
    }
    return reserved;
  }

  /**
   * Starts the first attempt of each delivery normalisation wrote claimed (`sending`, attempt 1, under a lease) in
   * its reserved slot: the attempt a claim would start, without the claim statement. `events` are the canonical
   * events just written. A reserved slot whose delivery was not written (it existed already) is released.
   */
  startClaimed(
    created: { id: string; destinationId: string; canonicalEventId: string; status: string }[],
    events: CloudEvent[],
    reserved: Map<string, (ok?: boolean) => void>,
  ): void {
    for (const delivery of created) {
      const release = reserved.get(delivery.id);
      if (delivery.status !== 'sending' || !release) continue;
      reserved.delete(delivery.id);
      const { id, destinationId, canonicalEventId } = delivery;
      const claim: Claimed = {
        kind: 'claimed',
        delivery: { id, destinationId, canonicalEventId, attempts: 1 },
        event: events.find((event) => event.id === canonicalEventId),
        // Routing just chose it from the active destinations (a copy at most 1 s old).
        destinationActive: true,
      };
      this.inline.add(this.attemptNow(delivery, release, claim));
    }
    for (const release of reserved.values()) release();
  }

  /**
   * Runs one attempt outside the queue in the slot `release` gives back (`claim`: one made already), and tells the
   * destination's limit how it went (slotOutcome).
   */
  private async attemptNow(
    delivery: { id: string; destinationId: string },
    release: (ok?: boolean) => void,
    claim?: Claimed,
  ): Promise<void> {
    let ok: boolean | undefined = false;
    try {
      ok = slotOutcome(await (claim ? this.proceed(claim) : this.run(delivery.id)));
    } catch (err) {
      // A retry is scheduled like a queued job's; anything else (Postgres down) goes to the queue to try again.
      const delayMs = err instanceof RetryDeliveryError ? err.delayMs : 1000;
      if (!(err instanceof RetryDeliveryError)) {
        this.logger.warn({ err: (err as Error).message, deliveryId: delivery.id }, 'delivery attempt failed');
      }
      await this.enqueue(delivery, delayMs);
    } finally {
      release(ok);
    }
  }

  /** To the queue; if Redis is down too (PipelineQueue logs it), the row stays owed for the reconciler. */
  private async enqueue(delivery: { id: string; destinationId: string }, delayMs: number): Promise<void> {
    await this.queue.deliver([delivery], delayMs);
  }

  /**
   * A CRM adapter's fixed limit (its API's), else the adaptive one: HUB_DESTINATION_CONCURRENCY slots to start with,
   * up to HUB_DESTINATION_MAX_CONCURRENCY while the receiver answers fast.
   */
  private async limitOf(destinationId: string): Promise<SlotLimit> {
    const destination = await this.destinations.findCached(destinationId);
    const fixed = destination && this.adapters.get(destination.type).maxInFlight;
    return fixed ?? { base: this.config.destinationConcurrency, max: this.config.destinationMaxConcurrency };
  }

  async process(job: Job<DeliverJobData>, token?: string): Promise<DeliverOutcome> {
    const { deliveryId } = job.data;
    const destinationId = job.data.destinationId ?? (await this.deliveries.destinationOf(deliveryId));
    if (!destinationId) return 'skipped';
    const limit = await this.limitOf(destinationId);
    const release = await this.gate.acquire(destinationId, limit, DESTINATION_WAIT_MS);
    if (!release) {
      // The destination has its limit of attempts in flight, and no slot came free while waiting briefly: back to
      // the queue until the destination's next free turn, so a backlog does not bounce through Redis again and again.
      return this.postponeWhileBusy(job, token, { ...job.data, destinationId }, this.gate.nextTurn(destinationId, limit));
    }
    let outcome: DeliverOutcome | undefined;
    try {
      outcome = await this.run(deliveryId);
      return outcome;
    } finally {
      // A throw is a failed attempt (a retry is due) or a failure before one: either way not a fast success.
      release(outcome === undefined ? false : slotOutcome(outcome));
    }
  }

  async run(deliveryId: string): Promise<DeliverOutcome> {
    const claim = await this.deliveries.claim(deliveryId, this.leaseSeconds);
    if (claim.kind === 'gone') return 'skipped';
    return this.proceed(claim);
  }

  /** The attempt of a claimed delivery: send, record, and schedule a retry when one is due. */
  private async proceed(claim: Claimed): Promise<DeliverOutcome> {
    const { delivery, event } = claim;
    // The claim read the destination's status fresh; its settings come from a copy at most two seconds old.
    let destination = claim.destinationActive ? await this.destinations.findCached(delivery.destinationId) : null;
    // Re-enabled since it was cached: the copy is older than the status, read it again.
    if (destination && destination.status !== 'active') destination = await this.destinations.find(destination.id);
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
