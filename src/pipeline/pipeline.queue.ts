import { Inject, Injectable } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import Redis, { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { withTimeout } from '../common/with-timeout';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import type { PreparedOutput } from '../canonical/canonical-event.service';
import type { NormalizeStart } from '../ingest/inbound-event.service';
import { QueueName } from './pipeline.constants';

export interface NormalizeJobData {
  inboundEventId: string;
}

export interface DeliverJobData {
  deliveryId: string;
  /** Lets the job take its destination's slot without first reading the row; absent in older jobs. */
  destinationId?: string;
  /** How often this job already waited for its destination to have a free slot. */
  waits?: number;
}

export interface EnrichJobData {
  inboundEventId: string;
  /** The per-source cap is taken before the row is read. */
  sourceId: string;
  /** How often this job already waited for its source to have a free slot. */
  waits?: number;
}

/**
 * Issue 11: this process's promise to normalise an event ingest is about to store (NormalizeJob.claimInline). The
 * event is stored with its first try already counted, so the normalisation starts with no statement of its own;
 * when `prepare` gave its output first, it is stored with that output, and only its deliveries are left to start.
 * Exactly one of `stored`, `start` and `cancel` follows.
 */
export interface LocalNormalize {
  /**
   * Maps and routes the event before it is stored, when that can be done at once; undefined otherwise (the event is
   * stored alone, then `start`). Never throws.
   */
  prepare(event: NormalizeStart): Promise<PreparedOutput | undefined>;
  /** The event is stored with the output `prepare` gave: start its deliveries. */
  stored(): void;
  /** The event is stored alone (not a duplicate): normalise it. */
  start(event: NormalizeStart): void;
  /** Nothing to normalise: the event was a duplicate, or could not be stored. */
  cancel(): void;
}

/** How long a request waits for Redis to take its jobs before answering anyway (the rows are committed). */
const ENQUEUE_TIMEOUT_MS = 1000;

const COMMON: JobsOptions = { removeOnComplete: true, removeOnFail: true };

/**
 * Retries for what a job rethrows. Normalize rethrows only "a dependency is down" errors, so a short exponential
 * backoff fits; every other failure ends the event `failed` inside the job. Deliver rethrows RetryDeliveryError,
 * whose delay (schedule, jitter, Retry-After) the deliver worker's backoff strategy reads.
 */
const JOB_OPTIONS: Record<QueueName, JobsOptions> = {
  [QueueName.Normalize]: { ...COMMON, attempts: 8, backoff: { type: 'exponential', delay: 1000 } },
  [QueueName.Deliver]: { ...COMMON, attempts: 1000, backoff: { type: 'custom' } },
  // Like deliver: the job computes each delay (schedule, Retry-After); Postgres counts the tries that matter.
  [QueueName.Enrich]: { ...COMMON, attempts: 1000, backoff: { type: 'custom' } },
};

/**
 * The one place each pipeline job is enqueued. Job id = row id, so enqueueing a row twice (ingest and the
 * reconciler, or after a Redis flush) is a no-op. Redis only schedules; Postgres is the truth: an enqueue that
 * fails is logged and left to the reconciler.
 *
 * Producers run on a connection with the offline queue disabled, so a Redis outage fails an enqueue at once
 * instead of holding a vendor's request open or piling commands up in memory.
 */
@Injectable()
export class PipelineQueue {
  private readonly connection: Redis;
  private readonly queues = new Map<QueueName, Queue>();

  private localNormalize?: (bodyBytes: number) => LocalNormalize | undefined;
  private localBacklog?: () => boolean;

  constructor(
    @Inject(HUB_CONFIG) config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.connection = new Redis({
      ...redisOptions(config.redisUrl),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
    });
    this.connection.on('error', (err) => this.logger.warn({ err: err.message }, 'redis producer connection error'));
    for (const name of Object.values(QueueName)) {
      const queue = new Queue(name, { connection: this.connection, prefix: config.queuePrefix });
      // BullMQ forwards its connection's errors to the queue, and an EventEmitter with no 'error' listener throws.
      // One is "Connection is closed" when the shared connection closes before the queue's setup finished (a hub
      // stopped right after it started): logged, never a crash.
      queue.on('error', (err) => this.logger.warn({ err: err.message, queue: name }, 'redis queue error'));
      this.queues.set(name, queue);
    }
  }

  queue(name: QueueName): Queue {
    return this.queues.get(name)!;
  }

  /**
   * A worker process's NormalizeJob offers to normalise, in this process, events that ingest is about to store
   * (`claim`), and to pull from Postgres those it had no room for (`noteBacklog`).
   */
  normalizeLocally(claim: (bodyBytes: number) => LocalNormalize | undefined, noteBacklog?: () => boolean): void {
    this.localNormalize = claim;
    this.localBacklog = noteBacklog;
  }

  /**
   * Ingest asks before it stores an event: undefined when this process runs no workers or has no room, and the event
   * goes through the normalize queue instead. Postgres holds each event either way, and the reconciler re-enqueues
   * any that a crash or a lost enqueue leaves waiting.
   */
  claimNormalize(bodyBytes: number): LocalNormalize | undefined {
    return this.localNormalize?.(bodyBytes);
  }

  /**
   * Issue 11: true when this process ingests and runs workers (HUB_ROLE=all) and will pull events waiting in Postgres
   * itself (in batches, with no job per event); false otherwise (or shutting down): the normalize queue takes them.
   */
  pullLocally(): boolean {
    return this.localBacklog?.() ?? false;
  }

  normalize(inboundEventIds: string[]): Promise<boolean> {
    return this.add(
      QueueName.Normalize,
      inboundEventIds.map((id) => ({
        name: QueueName.Normalize,
        id,
        data: { inboundEventId: id } satisfies NormalizeJobData,
      })),
    );
  }

  /** `delayMs`: a retry of an attempt made outside the queue (DeliverJob.dispatch), due that much later. */
  deliver(deliveries: { id: string; destinationId: string }[], delayMs?: number): Promise<boolean> {
    return this.add(
      QueueName.Deliver,
      deliveries.map(({ id, destinationId }) => ({
        name: QueueName.Deliver,
        id,
        data: { deliveryId: id, destinationId } satisfies DeliverJobData,
      })),
      delayMs,
    );
  }

  /** Issue 12: events to enrich before they are normalised. */
  enrich(events: { id: string; sourceId: string }[]): Promise<boolean> {
    return this.add(
      QueueName.Enrich,
      events.map(({ id, sourceId }) => ({
        name: QueueName.Enrich,
        id,
        data: { inboundEventId: id, sourceId } satisfies EnrichJobData,
      })),
    );
  }

  /**
   * Removes the jobs among `ids` that Redis holds in no list (BullMQ state "unknown"). A partial loss of Redis keys
   * (keys deleted or evicted one by one, not one atomic flush) can leave a job's hash without its place in a list:
   * BullMQ then takes an add under that id for a duplicate and does nothing, and the row would never run again.
   * A job that waits, is delayed or is running is left alone. Returns how many were removed.
   */
  async removeOrphans(name: QueueName, ids: string[]): Promise<number> {
    const queue = this.queue(name);
    const states = await Promise.all(ids.map(async (id) => [id, await queue.getJobState(id)] as const));
    // A job that does not exist at all is "unknown" too: only a hash that is there is a husk.
    const unknown = states.filter(([, state]) => state === 'unknown').map(([id]) => id);
    const husks = (await Promise.all(unknown.map(async (id) => ((await queue.getJob(id)) ? id : undefined)))).filter(
      (id): id is string => id !== undefined,
    );
    await Promise.all(husks.map((id) => queue.remove(id)));
    return husks.length;
  }

  /** Whether Redis answers now; shutdown uses it to decide between draining and letting go. */
  async ping(timeoutMs = 1000): Promise<string> {
    return withTimeout(this.connection.ping(), timeoutMs, 'Redis');
  }

  async close(): Promise<void> {
    // A queue whose setup is still waiting would reject it unhandled when the connection goes (see LifecycleService).
    if (this.connection.status === 'ready') await waitForSetup([...this.queues.values()], 2000);
    // Queues on a connection we own do not quit it; disconnect never waits for a Redis that is down.
    await Promise.allSettled([...this.queues.values()].map((queue) => withTimeout(queue.close(), 2000, 'Redis')));
    this.connection.disconnect();
  }

  private async add(
    name: QueueName,
    jobs: { name: string; id: string; data: object }[],
    delayMs?: number,
  ): Promise<boolean> {
    if (!jobs.length) return true;
    if (this.connection.status !== 'ready') {
      this.logger.warn({ queue: name, jobs: jobs.length }, 'redis is not connected; the reconciler will enqueue');
      return false;
    }
    const queue = this.queue(name);
    const bulk = jobs.map((job) => ({
      name: job.name,
      data: job.data,
      opts: { ...JOB_OPTIONS[name], jobId: job.id, ...(delayMs ? { delay: delayMs } : {}) },
    }));
    // addBulk wraps its jobs in a MULTI; a single job (every ingest) is cheaper as a plain add.
    const add: Promise<unknown> =
      bulk.length === 1 ? queue.add(bulk[0].name, bulk[0].data, bulk[0].opts) : queue.addBulk(bulk);
    try {
      await withTimeout(add, ENQUEUE_TIMEOUT_MS, 'Redis');
      return true;
    } catch (err) {
      add.catch(() => undefined); // a late failure of the abandoned add is already accounted for
      this.logger.warn(
        { err: (err as Error).message, queue: name, jobs: jobs.length },
        'enqueue failed; the reconciler will retry',
      );
      return false;
    }
  }
}

/** Waits, at most `ms`, for BullMQ objects (workers, queues) to finish connecting; never throws. */
export async function waitForSetup(objects: { waitUntilReady(): Promise<unknown> }[], ms: number): Promise<void> {
  await withTimeout(Promise.allSettled(objects.map((o) => o.waitUntilReady())), ms, 'redis setup').catch(
    () => undefined,
  );
}

/** ioredis options from a redis:// or rediss:// URL. */
export function redisOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
  };
}
