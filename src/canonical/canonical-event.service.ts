import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Coalescer } from '../database/coalescer';
import { HotPool, hotStatement } from '../database/prepared';
import type { PlannedDelivery } from '../routing/routing.service';
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

/** One event's first output: its canonical events, and their deliveries with the ones to write claimed. */
export interface FirstOutput {
  inboundEventId: string;
  events: CloudEvent[];
  mappingVersion: string;
  deliveries: PlannedDelivery[];
  claim: { ids: string[]; leaseSeconds: number };
}

/**
 * The two inserts of a first output, as `events` and `routed` of a WITH: the canonical events from the jsonb rows
 * bound at `events`, their deliveries from those at `deliveries` (firstOutputRows). `storedIn`: the name of an
 * earlier part of the WITH that returns inbound `id`s; only the rows of those events are written (issue 11: ingest
 * stores an event with its output, and a duplicate's output is dropped with it).
 */
export function firstOutputInserts(events: string, deliveries: string, storedIn?: string): string {
  const only = (column: string) => (storedIn ? `WHERE ${column} IN (SELECT id FROM ${storedIn})` : '');
  return `events AS (
     INSERT INTO canonical_event (id, inbound_event_id, index, revision, type, subject, time, test, event, mapping_version)
     SELECT e.event->>'id', e.inbound, e.index, 0, e.event->>'type', e.event->>'subject',
            (e.event->>'time')::timestamptz, (e.event->>'test')::boolean, e.event, e.version
     FROM jsonb_to_recordset(${events}::jsonb) AS e(inbound text, index int, version text, event jsonb)
     ${only('e.inbound')}
     ON CONFLICT (id) DO NOTHING
   ), routed AS (
     INSERT INTO delivery (id, destination_id, canonical_event_id, status, next_attempt_at, last_error, attempts,
                           locked_until)
     SELECT d.id, d."destinationId", d."canonicalEventId",
            CASE WHEN d.lease IS NOT NULL THEN 'sending' ELSE d.status END,
            CASE WHEN d.status = 'pending' THEN now() END, d."lastError",
            CASE WHEN d.lease IS NOT NULL THEN 1 ELSE 0 END,
            now() + make_interval(secs => d.lease)
     FROM jsonb_to_recordset(${deliveries}::jsonb)
          AS d(inbound text, id text, "destinationId" text, "canonicalEventId" text, status text, "lastError" text,
               lease float8)
     ${only('d.inbound')}
     ON CONFLICT (destination_id, canonical_event_id) DO NOTHING
     RETURNING id, destination_id AS "destinationId", canonical_event_id AS "canonicalEventId", status
   )`;
}

/** A first output before it is stored, with or without its event (issue 11: ingest stores both in one statement). */
export type PreparedOutput = Omit<FirstOutput, 'inboundEventId'>;

/** The values of firstOutputInserts' two parameters, for a batch of outputs. */
export function firstOutputRows(outputs: FirstOutput[]): [events: string, deliveries: string] {
  return [
    JSON.stringify(
      outputs.flatMap(({ inboundEventId, events, mappingVersion }) =>
        events.map((event, index) => ({ inbound: inboundEventId, index, version: mappingVersion, event })),
      ),
    ),
    JSON.stringify(
      outputs.flatMap(({ inboundEventId, deliveries, claim }) => {
        const claimed = new Set(claim.ids);
        return deliveries.map((d) => ({
          ...d,
          inbound: inboundEventId,
          lease: claimed.has(d.id) ? claim.leaseSeconds : null,
        }));
      }),
    ),
  ];
}

/** The delivery rows a first output writes, as firstOutputInserts writes them (for a new event: all of them). */
export function createdDeliveries(output: PreparedOutput): CreatedDelivery[] {
  const claimed = new Set(output.claim.ids);
  return output.deliveries.map(({ id, destinationId, canonicalEventId, status }) => ({
    id,
    destinationId,
    canonicalEventId,
    status: claimed.has(id) ? 'sending' : status,
  }));
}

/** CanonicalEventService.insertFirstOutput, for a batch of events. */
export const CANONICAL_INSERT_FIRST_OUTPUTS = hotStatement(
  'canonical_insert_first_outputs',
  `WITH ${firstOutputInserts('$1', '$2')}, marked AS (
     UPDATE inbound_event SET status = 'normalized', error = NULL, normalized_at = now() WHERE id = ANY($3::text[])
   )
   SELECT id, "destinationId", "canonicalEventId", status FROM routed`,
);

/** `canonical_event` belongs here; the pipeline and the ops API read and write it only through this service. */
@Injectable()
export class CanonicalEventService {
  private readonly firstOutputs = new Coalescer((outputs: FirstOutput[]) => this.insertFirstOutputs(outputs));

  constructor(
    private readonly dataSource: DataSource,
    private readonly hot: HotPool,
  ) {}

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

  /**
   * The first output of an inbound event, in one statement (issue 11: one round trip and one commit instead of a
   * transaction of 2 + n statements): its canonical events, their delivery rows, and the inbound event marked
   * normalised. Ids are derived, so a second run inserts nothing; it returns the deliveries it created.
   *
   * `claim`: deliveries this process has a slot for and attempts at once are written already claimed (`sending`,
   * attempt 1, a lease of `leaseSeconds`), so their first attempt needs no claim statement (issue 11).
   */
  insertFirstOutput(
    inboundEventId: string,
    events: CloudEvent[],
    mappingVersion: string,
    deliveries: PlannedDelivery[],
    claim: { ids: string[]; leaseSeconds: number },
  ): Promise<CreatedDelivery[]> {
    return this.firstOutputs.run({ inboundEventId, events, mappingVersion, deliveries, claim });
  }

  /**
   * Several events' first outputs in one statement (group commit, Coalescer). A delivery row comes back to the first
   * call for its canonical event: the same event normalised twice in one batch creates its deliveries once.
   */
  private async insertFirstOutputs(outputs: FirstOutput[]): Promise<CreatedDelivery[][]> {
    const rows = await this.hot.query<CreatedDelivery>(CANONICAL_INSERT_FIRST_OUTPUTS, [
      ...firstOutputRows(outputs),
      outputs.map((output) => output.inboundEventId),
    ]);
    const byEvent = new Map<string, CreatedDelivery[]>();
    for (const row of rows) byEvent.set(row.canonicalEventId, [...(byEvent.get(row.canonicalEventId) ?? []), row]);
    return outputs.map(({ events }) =>
      events.flatMap((event) => {
        const created = byEvent.get(event.id) ?? [];
        byEvent.delete(event.id);
        return created;
      }),
    );
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

/** A delivery row the first output created: `pending`, `failed` (a broken filter) or `sending` (claimed at insert). */
export interface CreatedDelivery {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  status: 'pending' | 'failed' | 'sending';
}
