import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { DeliveryService } from '../delivery/delivery.service';
import { InboundEventService } from '../ingest/inbound-event.service';
import { NORMALIZE_RETRY_SECONDS, QueueName, RECONCILE_GRACE_SECONDS } from './pipeline.constants';
import { PipelineQueue } from './pipeline.queue';

const BATCH = 1000;
/** A row still owed after this many passes in a row gets its job checked for a husk Redis kept of it. */
const STUCK_PASSES = 3;

/**
 * Postgres is the truth, Redis only schedules (DESIGN §1). At boot and every HUB_RECONCILE_INTERVAL seconds,
 * re-enqueue what Postgres says is owed: inbound events whose enrichment is due, events not yet normalised (and not
 * tried lately: with HUB_ROLE=all, this process's NormalizeJob pulls those itself, issue 11), deliveries due,
 * and deliveries whose `sending` lease expired (a worker died mid-attempt). Job id = row id, so a job Redis still
 * has is left alone. Each list goes to Redis in one bulk call, so a pass during a Redis outage costs one timeout.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Per queue: the ids owed in the last pass, with how many passes in a row they have been owed. */
  private readonly owed = new Map<QueueName, Map<string, number>>();

  constructor(
    private readonly inbound: InboundEventService,
    private readonly deliveries: DeliveryService,
    private readonly queue: PipelineQueue,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role !== 'api') this.start();
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.reconcileIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.reconcile()
      .then((counts) => {
        if (counts.normalize || counts.deliver || counts.enrich)
          this.logger.info(counts, 'reconciler re-enqueued work');
      })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'reconcile pass failed'))
      .finally(() => (this.running = undefined));
  }

  async reconcile(): Promise<{ normalize: number; deliver: number; enrich: number }> {
    // Issue 12: events waiting for a fetch whose next try is due (its lease ran out, or Redis lost its retry).
    const toEnrich = await this.inbound.enrichmentDue(RECONCILE_GRACE_SECONDS, BATCH);
    await this.clearHusks(QueueName.Enrich, toEnrich);
    const enriched = await this.queue.enrich(toEnrich);
    const waiting = await this.inbound.waiting(RECONCILE_GRACE_SECONDS, NORMALIZE_RETRY_SECONDS, BATCH);
    // Issue 11: with HUB_ROLE=all, this process's NormalizeJob pulls them from Postgres itself, in batches.
    const normalized = waiting.length > 0 && this.queue.pullLocally() ? true : await this.enqueueNormalize(waiting);
    const due = await this.deliveries.due(RECONCILE_GRACE_SECONDS, BATCH);
    await this.clearHusks(QueueName.Deliver, due);
    const delivered = await this.queue.deliver(due);
    return {
      normalize: normalized ? waiting.length : 0,
      deliver: delivered ? due.length : 0,
      enrich: enriched ? toEnrich.length : 0,
    };
  }

  private async enqueueNormalize(waiting: string[]): Promise<boolean> {
    await this.clearHusks(
      QueueName.Normalize,
      waiting.map((id) => ({ id })),
    );
    return this.queue.normalize(waiting);
  }

  /**
   * Job id = row id makes a re-enqueue a no-op while Redis still has the job, which is what keeps it exactly once.
   * But if Redis kept only a husk of a job (its hash, in no list: a partial key loss), every re-enqueue is a no-op
   * and the row is owed for ever. Rows owed STUCK_PASSES passes in a row are checked, and husks removed, so this
   * pass's enqueue takes. A healthy backlog costs one state read per such row and pass.
   */
  private async clearHusks(name: QueueName, rows: { id: string }[]): Promise<void> {
    const before = this.owed.get(name) ?? new Map<string, number>();
    const now = new Map(rows.map(({ id }) => [id, (before.get(id) ?? 0) + 1]));
    this.owed.set(name, now);
    const stuck = [...now].filter(([, passes]) => passes >= STUCK_PASSES).map(([id]) => id);
    if (!stuck.length) return;
    try {
      const removed = await this.queue.removeOrphans(name, stuck);
      if (removed) this.logger.warn({ queue: name, removed }, 'reconciler removed jobs Redis kept in no list');
    } catch (err) {
      // Redis down: the enqueue that follows fails the same way and is logged; the next pass checks again.
      this.logger.debug({ queue: name, err: (err as Error).message }, 'could not check for husks');
    }
  }
}
