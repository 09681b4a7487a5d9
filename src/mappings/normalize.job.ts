import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ROOT_LOGGER } from '../common/logger';
import { DeliverJob } from '../delivery/deliver.job';
import { DestinationService } from '../destinations/destination.service';
import { InboundEventEntity } from '../ingest/inbound-event.entity';
import { MetricsService } from '../metrics/metrics.service';
import { QueueName } from '../queue/queue.constants';
import { QueueService } from '../queue/queue.service';
import { RoutingService } from '../routing/routing.service';
import { SourceEntity } from '../sources/source.entity';
import { MappingException } from './mapping.exception';
import { MappingService } from './mapping.service';

export interface NormalizeJobData {
  inboundEventId: string;
}

export type NormalizeOutcome = 'normalized' | 'failed' | 'skipped';

/**
 * inbound_event → canonical_event(s) → delivery rows, in one transaction; then deliver jobs are enqueued.
 * Ids are derived (evt_ from inbound id + index, msg_ from destination + event), so running it twice
 * (reconciler, re-normalise) creates nothing new. A mapping failure is not retried: it marks the inbound
 * event failed with the reason, to be re-normalised after the mapping is fixed.
 */
@Injectable()
export class NormalizeJob {
  constructor(
    private readonly dataSource: DataSource,
    private readonly mappings: MappingService,
    private readonly routing: RoutingService,
    private readonly destinations: DestinationService,
    private readonly queues: QueueService,
    private readonly metrics: MetricsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async handle(job: Job<NormalizeJobData>): Promise<NormalizeOutcome> {
    return this.run(job.data.inboundEventId);
  }

  async run(inboundEventId: string): Promise<NormalizeOutcome> {
    const inbound = await this.dataSource.getRepository(InboundEventEntity).findOneBy({ id: inboundEventId });
    if (!inbound || inbound.status !== 'received') return 'skipped';
    const source = await this.dataSource.getRepository(SourceEntity).findOneBy({ id: inbound.sourceId });
    if (!source) return 'skipped';

    let events;
    try {
      events = await this.mappings.mapRaw(inbound.body, {
        connector: source.connector,
        vendorEventType: inbound.vendorEventType,
        vendorEventId: inbound.vendorEventId ?? undefined,
        inboundEventId: inbound.id,
        sourceId: source.id,
        receivedAt: inbound.receivedAt,
        occurredAt: inbound.occurredAt ?? undefined,
        test: inbound.test,
      });
    } catch (err) {
      if (!(err instanceof MappingException)) throw err;
      await this.dataSource.query(`UPDATE inbound_event SET status = 'failed', error = $2 WHERE id = $1`, [
        inbound.id,
        err.message,
      ]);
      this.metrics.normalized.inc({ connector: source.connector, outcome: 'failed' });
      this.logger.warn({ inboundEventId: inbound.id, reason: err.message }, 'normalize failed');
      return 'failed';
    }

    const destinations = await this.destinations.active();
    const pending = await this.dataSource.transaction(async (manager) => {
      const created: string[] = [];
      for (const [index, event] of events.entries()) {
        await manager.query(
          `INSERT INTO canonical_event (id, inbound_event_id, index, type, subject, time, test, event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
          [event.id, inbound.id, index, event.type, event.subject, event.time, event.test, event],
        );
        const routed = await this.routing.route(manager, event, destinations);
        created.push(...routed.filter((d) => d.status === 'pending').map((d) => d.id));
      }
      await manager.query(
        `UPDATE inbound_event SET status = 'normalized', error = NULL, normalized_at = now() WHERE id = $1`,
        [inbound.id],
      );
      return created;
    });
    for (const deliveryId of pending) {
      await this.queues.enqueue(QueueName.Deliver, DeliverJob.name, deliveryId, { deliveryId });
    }
    this.metrics.normalized.inc({ connector: source.connector, outcome: 'normalized' });
    return 'normalized';
  }
}
