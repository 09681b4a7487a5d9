import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from './common/logger';
import { ReconcilerService } from './delivery/reconciler.service';
import { QueueService } from './queue/queue.service';

/**
 * Graceful shutdown in one place, in order. Nest has already closed the HTTP server (no new requests) when
 * shutdown hooks run; then the reconciler stops, workers finish their in-flight jobs, and connections close.
 */
@Injectable()
export class LifecycleService implements OnApplicationShutdown {
  constructor(
    private readonly reconciler: ReconcilerService,
    private readonly queues: QueueService,
    private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down: draining workers');
    await this.reconciler.stop();
    await this.queues.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info('shutdown complete');
  }
}
