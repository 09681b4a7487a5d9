import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { NormalizeJob } from '../mappings/normalize.job';
import { QueueName } from '../queue/queue.constants';
import { QueueService } from '../queue/queue.service';
import { DeliverJob } from './deliver.job';

/** Rows younger than this are left to the process that just enqueued them. */
const GRACE_SECONDS = 2;
const BATCH = 1000;

/**
 * Postgres is the truth, Redis only schedules (DESIGN §1). At boot and every HUB_RECONCILE_INTERVAL seconds,
 * re-enqueue what Postgres says is owed: inbound events not yet normalised, deliveries due, and deliveries whose
 * `sending` lease expired (a worker died mid-attempt). Job id = row id, so a job Redis still has is left alone.
 */
@Injectable()
export class ReconcilerService {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.reconcileIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.reconcile()
      .then((counts) => {
        if (counts.normalize || counts.deliver) this.logger.info(counts, 'reconciler re-enqueued work');
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'reconcile pass failed'))
      .finally(() => (this.running = undefined));
  }

  async reconcile(): Promise<{ normalize: number; deliver: number }> {
    const inbound: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM inbound_event WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
       ORDER BY received_at LIMIT $2`,
      [GRACE_SECONDS, BATCH],
    );
    for (const { id } of inbound) {
      await this.queues.enqueue(QueueName.Normalize, NormalizeJob.name, id, { inboundEventId: id });
    }
    const due: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM delivery
       WHERE (status IN ('pending', 'retrying') AND next_attempt_at < now() - make_interval(secs => $1))
          OR (status = 'sending' AND locked_until < now())
       ORDER BY next_attempt_at NULLS FIRST LIMIT $2`,
      [GRACE_SECONDS, BATCH],
    );
    for (const { id } of due) {
      await this.queues.enqueue(QueueName.Deliver, DeliverJob.name, id, { deliveryId: id });
    }
    return { normalize: inbound.length, deliver: due.length };
  }
}
