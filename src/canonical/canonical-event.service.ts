import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent } from './cloud-event';

/** `canonical_event` belongs here; the pipeline and the ops API read and write it only through this service. */
@Injectable()
export class CanonicalEventService {
  constructor(private readonly dataSource: DataSource) {}

  /** Inside the normalize transaction. Ids are derived, so a second run inserts nothing. */
  async insert(
    manager: EntityManager,
    inboundEventId: string,
    events: CloudEvent[],
    mappingVersion?: string,
  ): Promise<void> {
    for (const [index, event] of events.entries()) {
      await manager.query(
        `INSERT INTO canonical_event (id, inbound_event_id, index, type, subject, time, test, event, mapping_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [
          event.id,
          inboundEventId,
          index,
          event.type,
          event.subject,
          event.time,
          event.test,
          event,
          mappingVersion ?? null,
        ],
      );
    }
  }

  async get(id: string): Promise<CloudEvent | undefined> {
    const rows: { event: CloudEvent }[] = await this.dataSource.query(
      'SELECT event FROM canonical_event WHERE id = $1',
      [id],
    );
    return rows[0]?.event;
  }

  async forInbound(inboundEventId: string): Promise<CloudEvent[]> {
    const rows: { event: CloudEvent }[] = await this.dataSource.query(
      'SELECT event FROM canonical_event WHERE inbound_event_id = $1 ORDER BY index',
      [inboundEventId],
    );
    return rows.map((row) => row.event);
  }
}
