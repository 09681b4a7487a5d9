import { Injectable } from '@nestjs/common';
import { CanonicalEventService } from '../canonical/canonical-event.service';
import { scanJson } from '../common/json-depth';
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
      ...renderPayload(body),
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

/**
 * Deepest payload rendered as JSON. Serialising the response recurses once per level, so a vendor body nested
 * 100 000 deep (accepted at /hooks, which stores bytes as received) would overflow the stack and answer 500.
 */
export const MAX_RENDERED_PAYLOAD_DEPTH = 512;

export interface RenderedPayload {
  /** `json`: `payload` is the parsed body. `text`: the raw body as a string (not JSON, or too deep to render). */
  payloadFormat: 'json' | 'text';
  payload: unknown;
}

function renderPayload(body: Buffer): RenderedPayload {
  const text = body.toString('utf8');
  if (scanJson(text, MAX_RENDERED_PAYLOAD_DEPTH).depth > MAX_RENDERED_PAYLOAD_DEPTH) {
    return { payloadFormat: 'text', payload: text };
  }
  try {
    return { payloadFormat: 'json', payload: JSON.parse(text) };
  } catch {
    return { payloadFormat: 'text', payload: text };
  }
}
