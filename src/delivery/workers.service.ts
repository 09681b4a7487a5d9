import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { NormalizeJob, NormalizeJobData } from '../mappings/normalize.job';
import { QueueName } from '../queue/queue.constants';
import { QueueService } from '../queue/queue.service';
import { DeliverJob, DeliverJobData } from './deliver.job';
import { ReconcilerService } from './reconciler.service';
import { RetryDeliveryError } from './retry-policy';

/** Starts the queue workers and the reconciler when this process has the worker role (HUB_ROLE=worker|all). */
@Injectable()
export class WorkersService implements OnApplicationBootstrap {
  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    private readonly queues: QueueService,
    private readonly normalize: NormalizeJob,
    private readonly deliver: DeliverJob,
    private readonly reconciler: ReconcilerService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    this.queues.startWorker<NormalizeJobData>(QueueName.Normalize, (job: Job<NormalizeJobData>) =>
      this.normalize.handle(job),
    );
    this.queues.startWorker<DeliverJobData>(QueueName.Deliver, (job: Job<DeliverJobData>) => this.deliver.handle(job), {
      settings: {
        // The deliver job computed the delay (schedule, jitter, Retry-After); other errors back off gently.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryDeliveryError ? err.delayMs : Math.min(60_000, 1000 * 2 ** attemptsMade),
      },
    });
    this.reconciler.start();
  }
}
