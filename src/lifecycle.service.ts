import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from './common/logger';
import { withTimeout } from './common/with-timeout';
import { HotPool } from './database/prepared';
import { MappingService } from './mappings/mapping.service';
import { DeliverJob } from './pipeline/deliver.job';
import { EnrichJob } from './pipeline/enrich.job';
import { NormalizeJob } from './pipeline/normalize.job';
import { PipelineQueue, waitForSetup } from './pipeline/pipeline.queue';
import { ReconcilerService } from './pipeline/reconciler.service';

/** In-flight jobs get this long to finish on shutdown; past it the worker lets go (the reconciler recovers them). */
const DRAIN_TIMEOUT_MS = 30_000;
/** How long shutdown waits for a worker's Redis connections to finish their setup before closing them. */
const SETUP_TIMEOUT_MS = 5_000;

/**
 * Graceful shutdown in one place, in order: the reconciler stops, workers finish their in-flight jobs, the
 * mapping threads stop, then Redis and Postgres connections close.
 *
 * Workers close in beforeApplicationShutdown, which Nest runs before any onApplicationShutdown hook, so they are
 * closed our way before @nestjs/bullmq's own hook asks them again (it then gets the same, finished close).
 * Our way means: when Redis does not answer, close without waiting on it (BullMQ's graceful close sends QUIT
 * and would wait for ever), since jobs cannot be acknowledged anyway; Postgres still knows what is owed.
 */
@Injectable()
export class LifecycleService implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly queue: PipelineQueue,
    private readonly mappings: MappingService,
    private readonly dataSource: DataSource,
    private readonly hotPool: HotPool,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Optional() private readonly normalizeJob?: NormalizeJob,
    @Optional() private readonly deliverJob?: DeliverJob,
    @Optional() private readonly enrichJob?: EnrichJob,
  ) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down: draining workers');
    await this.reconciler.stop();
    const workers = [this.enrichJob, this.normalizeJob, this.deliverJob]
      .filter((job) => job !== undefined)
      .map((job) => job.worker);
    if (!workers.length) return;
    const redisUp = await this.queue.ping().then(
      () => true,
      () => false,
    );
    if (!redisUp) this.logger.warn('redis is not answering: workers close without draining through it');
    // BullMQ closes a connection whose setup (its INFO version check) is still waiting with that setup's rejection
    // unhandled, which fails the process (taskforcesh/bullmq#3546). A hub stopped right after it started, or on a
    // slow Redis, hits it; so when Redis answers, the setup gets to finish first.
    if (redisUp) await waitForSetup(workers, SETUP_TIMEOUT_MS);
    await Promise.all(
      workers.map((worker) =>
        withTimeout(worker.close(!redisUp), DRAIN_TIMEOUT_MS, 'worker close').catch((err: Error) => {
          this.logger.warn({ err: err.message }, 'worker did not close in time; disconnecting it');
          return worker.disconnect().catch(() => undefined);
        }),
      ),
    );
    // Normalisations started straight from ingest finish (and dispatch their deliveries) before Postgres goes.
    await withTimeout(
      this.normalizeJob?.drainInline() ?? Promise.resolve(),
      DRAIN_TIMEOUT_MS,
      'inline normalisations',
    ).catch(() =>
      this.logger.warn('inline normalisations did not finish in time; the reconciler will find their events'),
    );
    // First attempts started straight from normalisation (DeliverJob.dispatch) finish and record before Postgres goes.
    await withTimeout(this.deliverJob?.drainInline() ?? Promise.resolve(), DRAIN_TIMEOUT_MS, 'inline deliveries').catch(
      () => this.logger.warn('inline delivery attempts did not finish in time; their leases will expire'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mappings.close();
    await this.queue.close();
    await this.hotPool.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info('shutdown complete');
  }
}
