import { Injectable } from '@nestjs/common';
import { decodeCursor, Page, toPage } from '../common/page-cursor';
import { DeliveryStatus } from '../delivery/delivery.entity';
import { DeliveryDetail, DeliverySummary, DeliveryService, FINAL_STATUSES } from '../delivery/delivery.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { BulkRetryDto, ListDeliveriesQuery } from './deliveries.dto';
import { DeliveriesErrorCode, DeliveriesException } from './deliveries.exception';

/** What a bulk retry without a status retries. */
export const BULK_RETRY_DEFAULT_STATUSES: DeliveryStatus[] = ['failed', 'exhausted'];

/** The delivery log ops read and retry; `delivery` itself is DeliveryService's. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveryService,
    private readonly queue: PipelineQueue,
  ) {}

  async list(query: ListDeliveriesQuery): Promise<Page<DeliverySummary>> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !after) {
      throw new DeliveriesException(DeliveriesErrorCode.BadCursor, 'cursor is not a cursor this API returned');
    }
    const rows = await this.deliveries.list(
      { destinationId: query.destinationId, status: query.status, from: query.from, to: query.to },
      after && { createdAt: after.at, id: after.id },
      query.limit + 1,
    );
    return toPage(rows, query.limit);
  }

  async get(id: string): Promise<DeliveryDetail> {
    const delivery = await this.deliveries.get(id);
    if (!delivery) throw new DeliveriesException(DeliveriesErrorCode.NotFound, `Delivery ${id} not found`);
    return delivery;
  }

  /** One delivery in any final state (exhausted included) goes back to pending, under the same webhook-id. */
  async retry(id: string): Promise<DeliveryDetail> {
    const [retried] = await this.deliveries.retry({ ids: [id] }, 1);
    if (!retried) {
      const current = await this.get(id);
      throw new DeliveriesException(
        DeliveriesErrorCode.InFlight,
        `Delivery ${id} is ${current.status}, already on its way; only ${FINAL_STATUSES.join(', ')} can be retried`,
      );
    }
    await this.queue.deliver([retried]);
    return this.get(id);
  }

  /**
   * Every finished delivery matching the filter (up to `limit`, oldest first) goes back to pending. Without a
   * status only failures (failed, exhausted) are retried: an empty filter must not resend everything delivered.
   */
  async retryMany(filter: BulkRetryDto): Promise<{ retried: number }> {
    const retried = await this.deliveries.retry(
      { destinationId: filter.destinationId, status: filter.status, from: filter.from, to: filter.to },
      filter.limit,
      filter.status ? [filter.status] : BULK_RETRY_DEFAULT_STATUSES,
    );
    await this.queue.deliver(retried);
    return { retried: retried.length };
  }

  /**
   * These deliveries, those of them in one of `statuses`, back to pending and enqueued: the bulk retry of an issues
   * group (GET /api/issues), whose members the caller picked by id.
   */
  async retryIds(ids: string[], statuses: DeliveryStatus[] = BULK_RETRY_DEFAULT_STATUSES): Promise<number> {
    if (!ids.length) return 0;
    const retried = await this.deliveries.retry({ ids }, ids.length, statuses);
    await this.queue.deliver(retried);
    return retried.length;
  }
}
