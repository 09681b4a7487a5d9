import { Processor } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import {
  CanonicalEventService,
  CreatedDelivery,
  createdDeliveries,
  PreparedOutput,
  sameOutput,
} from '../canonical/canonical-event.service';
import { CloudEvent } from '../canonical/cloud-event';
import { ROOT_LOGGER } from '../common/logger';
import { isTransientError } from '../common/transient-error';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { DeliveryService } from '../delivery/delivery.service';
import { DestinationEntity } from '../destinations/destination.entity';
import { DestinationService } from '../destinations/destination.service';
import {
  enrichmentOf,
  InboundEventService,
  InboundForNormalize,
  NormalizeStart,
} from '../ingest/inbound-event.service';
import { MappingException } from '../mappings/mapping.exception';
import { MappingUnavailableError } from '../mappings/mapping.pool';
import type { MappingContext } from '../mappings/mapping.worker';
import { MappingService } from '../mappings/mapping.service';
import { MetricsService } from '../metrics/metrics.service';
import { RoutingService } from '../routing/routing.service';
import { DeliverJob } from './deliver.job';
import { DestinationGate } from './destination-gate';
import { InFlight } from './in-flight';
import {
  MAX_NORMALIZE_ATTEMPTS,
  NORMALIZE_MAX_WAITERS,
  NORMALIZE_RETRY_SECONDS,
  NORMALIZE_WAIT_MS,
  NORMALIZE_WAITER_MAX_BYTES,
  PREPARE_TASKS_PER_THREAD,
  PREPARE_WAIT_MS,
  QueueName,
} from './pipeline.constants';
import { LocalNormalize, NormalizeJobData, PipelineQueue } from './pipeline.queue';
import { PipelineWorkerHost } from './pipeline-worker-host';

export type NormalizeOutcome = 'normalized' | 'failed' | 'skipped';

/** An event's first output, made before it is stored (NormalizeJob.prepareFirst). */
interface PreparedFirst {
  connector: string;
  output: PreparedOutput;
  /** The slots taken for the deliveries written claimed (DeliverJob.reserve). */
  reserved: Map<string, (ok?: boolean) => void>;
}

/** After a pull that failed (Postgres down), the next try. */
const PULL_RETRY_MS = 1000;

/**
 * inbound_event → canonical_event(s) → delivery rows, in one statement; then each delivery gets its first attempt
 * here at once when its destination has a free slot (DeliverJob.dispatch), or is enqueued.
 * Ids are derived (evt_ from inbound id + index, msg_ from destination + event), so running it twice
 * (reconciler, retries) creates nothing new. Re-normalising an event that already has output compares the fresh
 * output with the newest stored revision: the same content is left alone (nothing is delivered again); a different
 * one is stored as the next revision, whose ids include the revision, so destinations receive it as new
 * deliveries under new webhook-ids, and deliveries of the previous revision still waiting are superseded.
 *
 * Only "a dependency is down" errors are rethrown for BullMQ to retry. Everything else — a mapping error, a
 * payload too deep or too large, a stack overflow, a value Postgres refuses — ends the event `failed` with the
 * reason, to be re-normalised once the mapping is fixed. Tries are counted in Postgres, so even an event that
 * kills its worker every time ends `failed` after MAX_NORMALIZE_ATTEMPTS.
 */
@Processor(QueueName.Normalize, { autorun: false })
export class NormalizeJob extends PipelineWorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly inbound: InboundEventService,
    private readonly mappings: MappingService,
    private readonly canonical: CanonicalEventService,
    private readonly routing: RoutingService,
    private readonly destinations: DestinationService,
    private readonly deliveries: DeliveryService,
    private readonly queue: PipelineQueue,
    private readonly deliverJob: DeliverJob,
    private readonly metrics: MetricsService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) protected readonly logger: Logger,
  ) {
    super();
  }

  /** Events ingest handed to this process (claimInline): being stored, waiting for a slot, or running. */
  private readonly inline = new InFlight();
  /** Their slots: HUB_NORMALIZE_CONCURRENCY runs at once, in arrival order (one key, a fixed limit). */
  private readonly slots = new DestinationGate();
  /** Pulls from the backlog in Postgres and the runs of what they return; their own HUB_NORMALIZE_CONCURRENCY. */
  private readonly pulled = new InFlight();
  /** Postgres may hold waiting events this process has not pulled yet. */
  private backlog = false;
  /** Pulled events running now (each within `pulled`). */
  private pulledRuns = 0;
  /** A pull statement in flight, or a retry of one that failed, scheduled. */
  private pulling = false;

  onApplicationBootstrap(): void {
    this.startWorker(QueueName.Normalize, this.config.normalizeConcurrency);
    // The backlog pull is for a process that also ingests (HUB_ROLE=all): the events it has no room for, and those
    // the reconciler finds, have no job. Behind a separate api process every event has one, and a worker pulling the
    // same events would normalise many of them twice, so a worker-only process keeps to the queue.
    this.queue.normalizeLocally(
      (bodyBytes) => this.claimInline(bodyBytes),
      this.config.role === 'all' ? () => this.noteBacklog() : undefined,
    );
  }

  /**
   * Issue 11 (HUB_ROLE=all): Postgres holds events waiting for normalisation (one ingest could not hand over, or the
   * reconciler found). This process pulls them in batches (InboundEventService.pullWaiting: one statement claims a
   * batch and counts its tries) and runs them beside the ones ingest hands over, with a budget of its own, as the
   * normalize queue's worker would: no trip through Redis and no normalise-start statement per event. It pulls again
   * while half the budget is free, until a pull comes back short. False when this process is shutting down.
   */
  noteBacklog(): boolean {
    if (this.pulled.closing) return false;
    this.backlog = true;
    this.pullBacklog();
    return true;
  }

  private pullBacklog(): void {
    const cap = this.config.normalizeConcurrency;
    if (!this.backlog || this.pulling || this.pulled.closing || this.pulledRuns > cap / 2) return;
    this.pulling = true;
    this.pulled.add(this.pull(cap - this.pulledRuns));
  }

  private async pull(limit: number): Promise<void> {
    let events: NormalizeStart[];
    try {
      events = await this.inbound.pullWaiting(limit, NORMALIZE_RETRY_SECONDS);
    } catch (err) {
      // Postgres down: try again in a while (the reconciler also notes the backlog again on its next pass).
      this.logger.warn({ err: (err as Error).message }, 'could not pull waiting events; trying again');
      setTimeout(() => {
        this.pulling = false;
        this.pullBacklog();
      }, PULL_RETRY_MS).unref();
      return;
    }
    this.pulling = false;
    if (events.length < limit) this.backlog = false;
    // Claimed, so run even when shutdown has begun: the drain waits for runs started while it waits.
    for (const event of events) {
      this.pulledRuns++;
      this.pulled.add(
        this.runOrQueue(event.id, event).finally(() => {
          this.pulledRuns--;
          this.pullBacklog();
        }),
      );
    }
    this.pullBacklog();
  }

  /**
   * Issue 11: ingest asks, before it stores an event, whether this process will normalise it. Yes while fewer than
   * HUB_NORMALIZE_CONCURRENCY runs are in flight, or, for a body of at most NORMALIZE_WAITER_MAX_BYTES, while fewer
   * than NORMALIZE_MAX_WAITERS wait for a slot. The event is then stored with its first try counted, and runs here
   * without a trip through Redis or a normalise-start statement. One that finds no slot within NORMALIZE_WAIT_MS
   * goes to the normalize queue; one a run cannot finish (Postgres down, the mapping pool closing) too; a crash
   * leaves it `received` in Postgres, where the reconciler finds it. Undefined: no room (or shutting down), the
   * caller enqueues.
   */
  claimInline(bodyBytes: number): LocalNormalize | undefined {
    const cap = this.config.normalizeConcurrency;
    const claimed = this.inline.size;
    if (this.inline.closing || claimed >= cap + NORMALIZE_MAX_WAITERS) return undefined;
    if (claimed >= cap && bodyBytes > NORMALIZE_WAITER_MAX_BYTES) return undefined;
    let settle!: (work: (() => Promise<void>) | undefined) => void;
    const next = new Promise<(() => Promise<void>) | undefined>((resolve) => (settle = resolve));
    this.inline.add(next.then((work) => work?.()));
    let prepared: PreparedFirst | undefined;
    const discard = () => {
      for (const release of prepared?.reserved.values() ?? []) release();
      prepared = undefined;
    };
    return {
      prepare: async (event) => {
        prepared = await this.prepareFirst(event);
        return prepared?.output;
      },
      stored: () => {
        const first = prepared!;
        prepared = undefined;
        settle(() => this.deliverFirst(first));
      },
      start: (event) => {
        discard();
        settle(() => this.runWhenFree(event));
      },
      cancel: () => {
        discard();
        settle(undefined);
      },
    };
  }

  /**
   * Issue 11: an event's first output made before the event is stored, so ingest writes both in one statement (one
   * commit and one row version of the event fewer). Only when the mapping pool is not backed up, and within
   * PREPARE_WAIT_MS (MappingService.mapRawSoon), so a busy or stuck pool never holds up an ack for long. Deliveries
   * whose destination has a free slot are reserved, to be written claimed. Undefined when it cannot be made now, for
   * any reason: the event is then stored alone and normalised the usual way, which records what went wrong.
   */
  private async prepareFirst(event: NormalizeStart): Promise<PreparedFirst | undefined> {
    const connector = event.connector;
    if (!connector) return undefined;
    try {
      const mapped = await this.mappings.mapRawSoon(event.body, this.contextOf(event, connector, 0), {
        perThread: PREPARE_TASKS_PER_THREAD,
        waitMs: PREPARE_WAIT_MS,
      });
      if (!mapped) return undefined;
      const destinations = await this.destinations.activeCached();
      return { connector, ...(await this.routeFirst(mapped.events, mapped.version, destinations)) };
    } catch {
      return undefined;
    }
  }

  /** The event was stored with its prepared output: its claimed deliveries start, the others are dispatched. */
  private async deliverFirst({ connector, reserved, output }: PreparedFirst): Promise<void> {
    this.metrics.normalized.inc({ connector, outcome: 'normalized' });
    const created = createdDeliveries(output);
    this.deliverJob.startClaimed(created, output.events, reserved);
    try {
      await this.queue.deliver(await this.deliverJob.dispatch(created.filter((d) => d.status === 'pending')));
    } catch (err) {
      // The rows are committed `pending`: the reconciler enqueues them.
      this.logger.warn({ err: (err as Error).message }, 'could not dispatch new deliveries; the reconciler will');
    }
  }

  private async runWhenFree(event: NormalizeStart): Promise<void> {
    const cap = this.config.normalizeConcurrency;
    const release = await this.slots.acquire('inline', cap, NORMALIZE_WAIT_MS, NORMALIZE_MAX_WAITERS);
    if (!release) {
      await this.queue.normalize([event.id]);
      return;
    }
    try {
      await this.runOrQueue(event.id, event);
    } finally {
      release();
    }
  }

  /**
   * Shutdown: claims and pulls no more events; waits for those claimed, waiting or running (waiters still get their
   * slot), and for the pulled ones running. What the backlog still holds waits in Postgres for the next start.
   */
  async drainInline(): Promise<void> {
    await Promise.all([this.inline.drain(), this.pulled.drain()]);
  }

  /**
   * Normalises the event now, outside any normalize job (straight from ingest, or in an enrich job's slot). A run
   * that cannot finish (Postgres down, the mapping pool closing) goes to the normalize queue and its retries; were
   * Redis down too, the reconciler finds the event. `started`: the event as ingest stored it, its try counted.
   */
  async runOrQueue(inboundEventId: string, started?: NormalizeStart): Promise<void> {
    try {
      await this.run(inboundEventId, started);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, inboundEventId }, 'normalisation failed; queued to retry');
      await this.queue.normalize([inboundEventId]);
    }
  }

  async process(job: Job<NormalizeJobData>): Promise<NormalizeOutcome> {
    return this.run(job.data.inboundEventId);
  }

  /** `started`: the event with this try already counted (claimInline); otherwise the try is counted here. */
  async run(inboundEventId: string, started?: NormalizeStart): Promise<NormalizeOutcome> {
    const inbound = started ?? (await this.inbound.beginNormalize(inboundEventId));
    if (!inbound) return 'skipped';
    if (inbound.normalizeAttempts > MAX_NORMALIZE_ATTEMPTS) {
      return this.fail(inbound, '', `gave up after ${MAX_NORMALIZE_ATTEMPTS} normalisation attempts`);
    }
    const connector = inbound.connector;
    if (!connector) return this.fail(inbound, '', `source ${inbound.sourceId} no longer exists`);
    const stored = inbound.latest ?? undefined;
    const revision = stored ? stored.revision + 1 : 0;
    let events: CloudEvent[];
    let mappingVersion: string;
    try {
      ({ events, version: mappingVersion } = await this.mappings.mapRawVersioned(
        inbound.body,
        this.contextOf(inbound, connector, revision),
      ));
    } catch (err) {
      if (err instanceof MappingException) return this.fail(inbound, connector, err.message);
      return this.failUnlessTransient(inbound, connector, err, 'mapping');
    }
    let pending: { id: string; destinationId: string }[];
    try {
      const destinations = await this.destinations.activeCached();
      pending = stored
        ? await this.storeRevision(inbound.id, stored, events, revision, mappingVersion, destinations)
        : await this.storeFirst(inbound.id, events, mappingVersion, destinations);
    } catch (err) {
      return this.failUnlessTransient(inbound, connector, err, 'storing its canonical events');
    }
    await this.queue.deliver(await this.deliverJob.dispatch(pending));
    this.metrics.normalized.inc({ connector, outcome: 'normalized' });
    return 'normalized';
  }

  /**
   * The hot path: an event's first output, its deliveries and its status in one statement. Deliveries whose
   * destination has a free slot in this process are written claimed and their first attempts start at once, with no
   * claim statement (DeliverJob.reserve, startClaimed); returns the other pending ones, for DeliverJob.dispatch.
   */
  private async storeFirst(
    inboundId: string,
    events: CloudEvent[],
    mappingVersion: string,
    destinations: DestinationEntity[],
  ): Promise<{ id: string; destinationId: string }[]> {
    const { output, reserved } = await this.routeFirst(events, mappingVersion, destinations);
    let created: CreatedDelivery[];
    try {
      created = await this.canonical.insertFirstOutput(
        inboundId,
        events,
        mappingVersion,
        output.deliveries,
        output.claim,
      );
    } catch (err) {
      for (const release of reserved.values()) release();
      throw err;
    }
    this.deliverJob.startClaimed(created, events, reserved);
    return created.filter((d) => d.status === 'pending');
  }

  /**
   * An event's first output, routed (RoutingService.plan): a slot is reserved now for each pending delivery whose
   * destination has one free in this process (DeliverJob.reserve), and those are to be written claimed.
   */
  private async routeFirst(
    events: CloudEvent[],
    mappingVersion: string,
    destinations: DestinationEntity[],
  ): Promise<Omit<PreparedFirst, 'connector'>> {
    const deliveries = (await Promise.all(events.map((event) => this.routing.plan(event, destinations)))).flat();
    const reserved = await this.deliverJob.reserve(deliveries.filter((d) => d.status === 'pending'));
    const claim = { ids: [...reserved.keys()], leaseSeconds: this.deliverJob.leaseSeconds };
    return { reserved, output: { events, mappingVersion, deliveries, claim } };
  }

  private contextOf(inbound: InboundForNormalize, connector: string, revision: number): MappingContext {
    return {
      connector,
      vendorEventType: inbound.vendorEventType,
      vendorEventId: inbound.vendorEventId ?? undefined,
      inboundEventId: inbound.id,
      revision,
      sourceId: inbound.sourceId,
      receivedAt: inbound.receivedAt,
      occurredAt: inbound.occurredAt ?? undefined,
      test: inbound.test,
      // Issue 12: the stored enrichment (never fetched here), so re-normalising reuses it.
      enrichment: enrichmentOf(inbound),
    };
  }

  /** Re-normalised: the same output is left alone; a different one becomes the next revision, superseding the old. */
  private storeRevision(
    inboundId: string,
    stored: { revision: number; events: CloudEvent[] },
    events: CloudEvent[],
    revision: number,
    mappingVersion: string,
    destinations: DestinationEntity[],
  ): Promise<{ id: string; destinationId: string }[]> {
    return this.dataSource.transaction(async (manager) => {
      if (sameOutput(stored.events, events)) {
        await this.inbound.markNormalized(manager, inboundId);
        return [];
      }
      await this.canonical.insert(manager, inboundId, events, { revision, mappingVersion });
      await this.deliveries.supersedeWaiting(
        manager,
        stored.events.map((event) => event.id),
        `replaced by revision ${revision}`,
      );
      const created: { id: string; destinationId: string }[] = [];
      for (const event of events) {
        const routed = await this.routing.route(manager, event, destinations);
        created.push(...routed.filter((d) => d.status === 'pending'));
      }
      await this.inbound.markNormalized(manager, inboundId);
      return created;
    });
  }

  /** "A dependency is down" goes back to BullMQ to retry; any other error ends the event `failed` now. */
  private async failUnlessTransient(
    inbound: InboundForNormalize,
    connector: string,
    err: unknown,
    during: string,
  ): Promise<NormalizeOutcome> {
    if (isTransientError(err) || err instanceof MappingUnavailableError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    return this.fail(inbound, connector, `normalisation failed while ${during}: ${message}`);
  }

  private async fail(inbound: InboundForNormalize, connector: string, reason: string): Promise<NormalizeOutcome> {
    await this.inbound.markFailed(inbound.id, reason);
    this.metrics.normalized.inc({ connector, outcome: 'failed' });
    this.logger.warn({ inboundEventId: inbound.id, reason }, 'normalize failed');
    return 'failed';
  }
}
