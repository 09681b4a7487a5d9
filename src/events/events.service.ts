import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { scanJson } from '../common/json-depth';
import { NormalizeJob } from '../mappings/normalize.job';
import { QueueName } from '../queue/queue.constants';
import { QueueService } from '../queue/queue.service';
import { EventErrorCode, EventException } from './events.exception';

export interface InboundEventSummary {
  id: string;
  sourceId: string;
  vendorEventType: string;
  vendorEventId?: string;
  status: string;
  error?: string;
  test: boolean;
  receivedAt: Date;
  occurredAt?: Date;
}

const SUMMARY = `id, source_id AS "sourceId", vendor_event_type AS "vendorEventType", vendor_event_id AS "vendorEventId",
  status, error, test, received_at AS "receivedAt", occurred_at AS "occurredAt"`;

/** The inbound log ops read: every delivery with its canonical output and outbound deliveries. */
@Injectable()
export class EventsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queues: QueueService,
  ) {}

  async list(filter: { status?: string; sourceId?: string; limit: number }): Promise<InboundEventSummary[]> {
    const rows: InboundEventSummary[] = await this.dataSource.query(
      `SELECT ${SUMMARY} FROM inbound_event
       WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR source_id = $2)
       ORDER BY received_at DESC LIMIT $3`,
      [filter.status ?? null, filter.sourceId ?? null, filter.limit],
    );
    return rows.map(compact);
  }

  async get(id: string) {
    const [row]: (InboundEventSummary & { body: Buffer; headers: Record<string, string> })[] =
      await this.dataSource.query(`SELECT ${SUMMARY}, body, headers FROM inbound_event WHERE id = $1`, [id]);
    if (!row) throw new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    const canonical: { event: unknown }[] = await this.dataSource.query(
      'SELECT event FROM canonical_event WHERE inbound_event_id = $1 ORDER BY index',
      [id],
    );
    const deliveries = await this.dataSource.query(
      `SELECT d.id, d.destination_id AS "destinationId", d.canonical_event_id AS "canonicalEventId", d.status,
              d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_error AS "lastError",
              coalesce(json_agg(json_build_object('attempt', a.attempt_no, 'statusCode', a.status_code,
                'outcome', a.outcome, 'error', a.error, 'durationMs', a.duration_ms, 'startedAt', a.started_at)
                ORDER BY a.attempt_no) FILTER (WHERE a.id IS NOT NULL), '[]') AS attempts_log
       FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
       LEFT JOIN delivery_attempt a ON a.delivery_id = d.id
       WHERE c.inbound_event_id = $1 GROUP BY d.id ORDER BY d.created_at`,
      [id],
    );
    const { body, headers, ...summary } = row;
    return {
      ...compact(summary),
      headers,
      ...renderPayload(body),
      canonical: canonical.map((c) => c.event),
      deliveries,
    };
  }

  /** A failed event goes back to `received` and is normalised again (after its mapping was fixed). */
  async renormalize(id: string): Promise<InboundEventSummary> {
    const [rows]: [InboundEventSummary[], number] = await this.dataSource.query(
      `UPDATE inbound_event SET status = 'received', error = NULL WHERE id = $1 AND status = 'failed' RETURNING ${SUMMARY}`,
      [id],
    );
    if (!rows.length) {
      const exists = await this.dataSource.query('SELECT 1 FROM inbound_event WHERE id = $1', [id]);
      throw exists.length
        ? new EventException(
            EventErrorCode.NotFailed,
            `Event ${id} is not failed; only failed events are re-normalised`,
          )
        : new EventException(EventErrorCode.NotFound, `Event ${id} not found`);
    }
    await this.queues.enqueue(QueueName.Normalize, NormalizeJob.name, id, { inboundEventId: id });
    return compact(rows[0]);
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
