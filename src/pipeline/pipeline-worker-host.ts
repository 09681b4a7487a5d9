import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/**
 * What the pipeline's processors share: workers are created with `autorun: false` and started here, at
 * bootstrap, with their concurrency from the configuration; and BullMQ's 'error' events (Redis down, a job flushed
 * away mid-run), which would throw if nobody listened, are logged like failed jobs.
 */
export abstract class PipelineWorkerHost extends WorkerHost {
  protected abstract readonly logger: Logger;

  protected startWorker(queue: string, concurrency: number): void {
    this.worker.concurrency = concurrency;
    this.worker.run().catch((err: Error) => this.logger.error({ err: err.message, queue }, 'worker stopped'));
  }

  /** Failures the job logs itself (a scheduled retry) are not worth a second warning. */
  protected isExpectedFailure(_err: Error): boolean {
    return false;
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    this.logger.warn({ err: err?.message, queue: this.worker?.name }, 'worker error');
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    if (err && this.isExpectedFailure(err)) return;
    this.logger.warn(
      { err: err?.message, queue: this.worker?.name, jobId: job?.id, attempt: job?.attemptsMade },
      'job failed',
    );
  }
}
