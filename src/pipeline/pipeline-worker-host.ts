import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';

/**
 * BullMQ backoff for jobs that compute their own retry delay: an error of `Scheduled` carries it (schedule, jitter,
 * Retry-After); any other error (Postgres down) backs off exponentially, up to a minute.
 */
export function ownDelayBackoff(Scheduled: abstract new (...args: never[]) => { delayMs: number }) {
  return (attemptsMade: number, _type?: string, err?: Error): number =>
    err instanceof Scheduled ? err.delayMs : Math.min(60_000, 1000 * 2 ** attemptsMade);
}

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

  /**
   * The job's key (a destination, a source) has its cap in flight in this process: back to delayed for `delayMs`
   * (the key's next free turn, from its BusyPacer), and DelayedError spends no attempt. `data` is what the job keeps
   * (the count of waits is added).
   */
  protected async postponeWhileBusy<T extends { waits?: number }>(
    job: Job<T>,
    token: string | undefined,
    data: T,
    delayMs: number,
  ): Promise<never> {
    await job.updateData({ ...data, waits: (job.data.waits ?? 0) + 1 });
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
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
