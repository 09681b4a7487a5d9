import { Injectable } from '@nestjs/common';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { DeliveryService } from '../delivery/delivery.service';
import { InboundEventService, InboundEventSummary } from '../ingest/inbound-event.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { EventErrorCode, EventException } from './events.exception';

/** The inbound log ops read: every delivery with its canonical output and outbound deliveries. */
@Injectable()
export class EventsService {
  constructor(
    private readonly inbound: InboundEventService,
    private readonly canonical: CanonicalEventService,
    private readonly deliveries: DeliveryService,
    private readonly queue: PipelineQueue,
  ) {}

  async list(filter: { status?: string; sourceId?: string; limit: number }): Promise<InboundEventSummary[]> {
    return (await this.inbound.list(filter)).map(compact);
  }

  async get(id: string) {
    const row = await this.inbound.get(id);
    if (!row) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    const [canonical, deliveries] = await Promise.all([this.canonical.forInbound(id), this.deliveries.forInbound(id)]);
    const { body, headers, ...summary } = row;
    return {
      ...compact(summary),
      headers,
      payload: parseOrText(body),
      canonical,
      deliveries,
    };
  }

  /** A failed event goes back to `received` and is normalised again (after its mapping was fixed). */
  async renormalize(id: string): Promise<InboundEventSummary> {
    const reopened = await this.inbound.reopenFailed(id);
    if (!reopened) {
      throw (await this.inbound.get(id))
        ? new EventException(
            EventErrorCode.NotFailed,
            `Event ${id} is not failed; only failed events are re-normalised`,
          )
        : new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    }
    await this.queue.normalize([id]);
    return compact(reopened);
  }
}

function compact<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null && v !== undefined)) as T;
}

function parseOrText(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return body.toString('utf8');
  }
}
