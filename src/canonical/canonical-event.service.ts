import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { CloudEvent } from './cloud-event';

/** One stored canonical event as the events API shows it. */
export interface StoredCanonicalEvent {
  id: string;
  revision: number;
  index: number;
  createdAt: Date;
  event: CloudEvent;
  /** The mapping that produced it (`file:<hash>` or `override:<n>`); null before mapping versions were recorded. */
  mappingVersion: string | null;
}

/** `canonical_event` belongs here; the pipeline and the ops API read and write it only through this service. */
@Injectable()
export class CanonicalEventService {
  constructor(private readonly dataSource: DataSource) {}

  /** Inside the normalize transaction. Ids are derived, so a second run inserts nothing. */
  async insert(
    manager: EntityManager,
    inboundEventId: string,
    events: CloudEvent[],
    options: { revision?: number; mappingVersion?: string } = {},
  ): Promise<void> {
    for (const [index, event] of events.entries()) {
      await manager.query(
        `INSERT INTO canonical_event (id, inbound_event_id, index, revision, type, subject, time, test, event, mapping_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
        [
          event.id,
          inboundEventId,
          index,
          options.revision ?? 0,
          event.type,
          event.subject,
          event.time,
          event.test,
          event,
          options.mappingVersion ?? null,
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

  /** Every revision of one inbound event's output, oldest first. */
  async forInbound(inboundEventId: string): Promise<StoredCanonicalEvent[]> {
    return this.dataSource.query(
      `SELECT id, revision, index, created_at AS "createdAt", event, mapping_version AS "mappingVersion" FROM canonical_event
       WHERE inbound_event_id = $1 ORDER BY revision, index`,
      [inboundEventId],
    );
  }

  /** The newest revision of one inbound event's output: what replay re-delivers and re-normalise compares with. */
  async latest(inboundEventId: string): Promise<{ revision: number; events: CloudEvent[] } | undefined> {
    const rows: { revision: number; event: CloudEvent }[] = await this.dataSource.query(
      `SELECT revision, event FROM canonical_event
       WHERE inbound_event_id = $1 AND revision = (SELECT max(revision) FROM canonical_event WHERE inbound_event_id = $1)
       ORDER BY index`,
      [inboundEventId],
    );
    return rows.length ? { revision: rows[0].revision, events: rows.map((row) => row.event) } : undefined;
  }

  /** Inbound events whose output has this subject (the events log's subject filter), newest first, bounded. */
  async inboundIdsWithSubject(subject: string, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT inbound_event_id AS id FROM canonical_event WHERE subject = $1
       GROUP BY inbound_event_id ORDER BY max(time) DESC LIMIT $2`,
      [subject, limit],
    );
    return rows.map((row) => row.id);
  }
}

/** Whether two outputs carry the same content; ids are left out (they differ between revisions by construction). */
export function sameOutput(stored: CloudEvent[], fresh: CloudEvent[]): boolean {
  if (stored.length !== fresh.length) return false;
  return stored.every((event, index) => stableJson({ ...event, id: '' }) === stableJson({ ...fresh[index], id: '' }));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
