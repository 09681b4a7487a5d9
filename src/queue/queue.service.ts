import { Inject, Injectable } from '@nestjs/common';
import { JobsOptions, Processor, Queue, Worker, WorkerOptions } from 'bullmq';
import Redis, { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { ROOT_LOGGER } from '../common/logger';
import { withTimeout } from '../common/with-timeout';
import { QueueName } from './queue.constants';

/** Job-level retries for failures a job rethrows; the delivery schedule itself lives in Postgres. */
const MAX_JOB_ATTEMPTS = 1000;
/** How long a request waits for Redis to take a job before answering anyway. */
const ENQUEUE_TIMEOUT_MS = 1000;

/**
 * Redis only schedules; Postgres is the truth. Producers use a connection with the offline queue disabled,
 * so a Redis outage fails an enqueue at once (the reconciler re-enqueues from Postgres later) instead of
 * holding an HTTP request open.
 */
@Injectable()
export class QueueService {
  private readonly producerConnection: Redis;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers: Worker[] = [];

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.producerConnection = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      lazyConnect: false,
    });
    this.producerConnection.on('error', (err) =>
      this.logger.warn({ err: err.message }, 'redis producer connection error'),
    );
    for (const name of Object.values(QueueName)) {
      this.queues.set(name, new Queue(name, { connection: this.producerConnection, prefix: config.queuePrefix }));
    }
  }

  queue(name: QueueName): Queue {
    return this.queues.get(name)!;
  }

  /**
   * Job id = row id, so enqueueing twice (ingest + reconciler) is a no-op. Returns false when Redis did not take
   * the job in time: BullMQ waits for a ready connection, so without a bound a Redis outage would hold the
   * vendor's request open. The row is already committed; the reconciler enqueues it once Redis is back.
   */
  async enqueue(
    name: QueueName,
    jobName: string,
    rowId: string,
    data: object,
    opts: JobsOptions = {},
  ): Promise<boolean> {
    const add = this.queue(name).add(jobName, data, {
      jobId: rowId,
      removeOnComplete: true,
      removeOnFail: true,
      // Jobs rethrow retryable failures; the worker's backoff strategy decides the delay.
      attempts: MAX_JOB_ATTEMPTS,
      backoff: { type: 'custom' },
      ...opts,
    });
    try {
      await withTimeout(add, ENQUEUE_TIMEOUT_MS, 'Redis');
      return true;
    } catch (err) {
      add.catch(() => undefined); // a late failure of the abandoned add is already accounted for
      this.logger.warn(
        { err: (err as Error).message, queue: name, rowId },
        'enqueue failed; the reconciler will retry',
      );
      return false;
    }
  }

  async ping(): Promise<string> {
    return this.producerConnection.ping();
  }

  /** Workers get their own connections (BullMQ requires maxRetriesPerRequest: null there). */
  startWorker<T>(name: QueueName, processor: Processor<T>, options: Partial<WorkerOptions> = {}): Worker<T> {
    // Connection options, not an ioredis instance: BullMQ then owns its connections and closes them itself once
    // they are ready, so closing a worker straight after it started cannot race its start-up commands.
    const worker = new Worker<T>(name, processor, {
      connection: redisOptions(this.config.redisUrl),
      prefix: this.config.queuePrefix,
      concurrency: 8,
      ...options,
    });
    worker.on('error', (err) => this.logger.warn({ err: err.message, queue: name }, 'worker error'));
    worker.on('failed', (job, err) => {
      // Expected retries (RetryDeliveryError) are logged by the job itself; anything else is worth a warning.
      if (err?.name !== 'RetryDeliveryError') {
        this.logger.warn({ err: err?.message, queue: name, jobId: job?.id, attempt: job?.attemptsMade }, 'job failed');
      }
    });
    this.workers.push(worker as Worker);
    return worker;
  }

  /** Graceful: workers finish their in-flight jobs before connections close. Called by LifecycleService. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.producerConnection.disconnect();
  }
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
    maxRetriesPerRequest: null,
  };
}
