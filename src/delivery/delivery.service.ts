import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { CloudEvent } from '../canonical/cloud-event';
import { AttemptOutcome } from './delivery-attempt.entity';
import { DeliveryStatus } from './delivery.entity';

/** A delivery this worker holds the `sending` lease of. `attempts` (this attempt's number) fences the lease. */
export interface ClaimedDelivery {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  attempts: number;
  /** Attempts made before the last manual retry or replay; the retry schedule counts from here. */
  retryBase?: number;
}

export type Claim =
  | {
      kind: 'claimed';
      delivery: ClaimedDelivery;
      /** The canonical event to send; undefined when it no longer exists. */
      event?: CloudEvent;
      /** Whether the destination exists and is active, read with the claim. */
      destinationActive: boolean;
    }
  /** Nothing to do: delivered, failed, leased by another worker, or deleted. */
  | { kind: 'gone' };

export interface AttemptRecord {
  outcome: AttemptOutcome;
  statusCode?: number;
  responseBody?: string;
  durationMs: number;
  error: string | null;
  nextAttemptAt?: Date;
}

/**
 * `delivery` and `delivery_attempt` belong here. States: pending → sending → succeeded | retrying (→ sending …)
 * | failed | exhausted. `sending` is a lease (locked_until), so a job re-enqueued after a Redis flush cannot send
 * twice at once.
 */
@Injectable()
export class DeliveryService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims a delivery for one attempt: status `sending` with a lease, or `gone` when there is nothing to do. One
   * statement (issue 11) also reads what the attempt needs fresh: the canonical event, and whether the destination
   * is still active (its settings may come from a short-lived cache; its status must not).
   */
  async claim(id: string, leaseSeconds: number): Promise<Claim> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [(ClaimedDelivery & { event: CloudEvent | null; destinationActive: boolean | null })[], number] =
      await this.dataSource.query(
        `UPDATE delivery d SET status = 'sending', attempts = attempts + 1,
                locked_until = now() + make_interval(secs => $2), updated_at = now()
         WHERE id = $1 AND (status IN ('pending', 'retrying') OR (status = 'sending' AND locked_until < now()))
         RETURNING id, destination_id AS "destinationId", canonical_event_id AS "canonicalEventId", attempts,
                   retry_base AS "retryBase",
                   (SELECT c.event FROM canonical_event c WHERE c.id = d.canonical_event_id) AS event,
                   (SELECT t.status = 'active' FROM destination t WHERE t.id = d.destination_id) AS "destinationActive"`,
        [id, leaseSeconds],
      );
    if (!rows.length) return { kind: 'gone' };
    const { event, destinationActive, ...delivery } = rows[0];
    return { kind: 'claimed', delivery, event: event ?? undefined, destinationActive: destinationActive === true };
  }

  async destinationOf(id: string): Promise<string | undefined> {
    const rows: { destinationId: string }[] = await this.dataSource.query(
      'SELECT destination_id AS "destinationId" FROM delivery WHERE id = $1',
      [id],
    );
    return rows[0]?.destinationId;
  }

  /**
   * Records an attempt and moves the delivery on, only while this worker still holds the lease it claimed.
   * Returns false when the lease was lost (it expired and another worker claimed the delivery): nothing is written.
   */
  async record(delivery: ClaimedDelivery, attempt: AttemptRecord): Promise<boolean> {
    const status = attempt.outcome === 'retry' ? 'retrying' : attempt.outcome;
    // One statement, so one round trip and one commit (issue 11): the attempt row is written only when the fenced
    // UPDATE matched, and both commit together.
    const rows: unknown[] = await this.dataSource.query(
      `WITH moved AS (
         UPDATE delivery SET status = $2, next_attempt_at = $3, locked_until = NULL, last_error = $4, updated_at = now()
         WHERE id = $1 AND status = 'sending' AND attempts = $5 RETURNING id
       ), attempt AS (
         INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, duration_ms, status_code, response_body, error, outcome, next_attempt_at)
         SELECT id, $5, now() - make_interval(secs => $7::float / 1000), $7, $6, $8, $4, $9, $3 FROM moved
       )
       SELECT id FROM moved`,
      [
        delivery.id,
        status,
        attempt.nextAttemptAt ?? null,
        attempt.error,
        delivery.attempts,
        attempt.statusCode ?? null,
        attempt.durationMs,
        attempt.responseBody ?? null,
        attempt.outcome,
      ],
    );
    return rows.length > 0;
  }

  /** Deliveries owed an attempt: due ones, and `sending` leases that expired because a worker died mid-attempt. */
  async due(graceSeconds: number, limit: number): Promise<{ id: string; destinationId: string }[]> {
    return this.dataSource.query(
      `SELECT id, destination_id AS "destinationId" FROM delivery
       WHERE (status IN ('pending', 'retrying') AND next_attempt_at < now() - make_interval(secs => $1))
          OR (status = 'sending' AND locked_until < now())
       ORDER BY next_attempt_at NULLS FIRST LIMIT $2`,
      [graceSeconds, limit],
    );
  }

  /** The deliveries of one inbound event's canonical events (every revision), each with its attempts. */
  async forInbound(inboundEventId: string): Promise<DeliveryDetail[]> {
    return this.dataSource.query(
      `SELECT ${DETAIL} FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
       WHERE c.inbound_event_id = $1 ORDER BY d.created_at, d.id`,
      [inboundEventId],
    );
  }

  /**
   * Retention: deletes at most `limit` attempts started before `cutoff`. The delivery keeps its status, attempt
   * count and last error. SKIP LOCKED, so a pass never waits on a row another transaction holds.
   */
  async purgeAttempts(cutoff: Date, limit: number): Promise<number> {
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM delivery_attempt
       WHERE id IN (SELECT id FROM delivery_attempt WHERE started_at < $1
                    ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, limit],
    );
    return affected;
  }

  async get(id: string): Promise<DeliveryDetail | undefined> {
    const rows: DeliveryDetail[] = await this.dataSource.query(`SELECT ${DETAIL} FROM delivery d WHERE d.id = $1`, [
      id,
    ]);
    return rows[0];
  }

  /** One page of the delivery log, newest first (created_at, then id), after the position of the previous page. */
  async list(filter: DeliveryFilter, after: DeliveryLogPosition | undefined, limit: number): Promise<DeliveryLogRow[]> {
    const { where, params } = filterSql(filter);
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit);
    return this.dataSource.query(
      `SELECT ${SUMMARY}, ${POSITION} FROM delivery ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * Sends deliveries in a final state (any: exhausted, failed, succeeded...) back to `pending`, due now. A delivery
   * still pending, retrying or sending is left alone: it is already on its way. The retry schedule starts over
   * (retry_base); attempt numbers go on. Returns what the caller enqueues.
   */
  async retry(
    filter: DeliveryFilter & { ids?: string[] },
    limit: number,
    statuses: DeliveryStatus[] = FINAL_STATUSES,
  ): Promise<{ id: string; destinationId: string }[]> {
    const { where, params } = filterSql(filter);
    if (filter.ids) {
      params.push(filter.ids);
      where.push(`id = ANY($${params.length}::text[])`);
    }
    params.push(
      statuses.filter((status) => FINAL_STATUSES.includes(status)),
      limit,
    );
    const [rows]: [{ id: string; destinationId: string }[], number] = await this.dataSource.query(
      `UPDATE delivery SET status = 'pending', next_attempt_at = now(), locked_until = NULL, retry_base = attempts,
           updated_at = now()
       WHERE id IN (SELECT id FROM delivery WHERE ${[...where, `status = ANY($${params.length - 1}::text[])`].join(' AND ')}
                    ORDER BY created_at LIMIT $${params.length} FOR UPDATE SKIP LOCKED)
       RETURNING id, destination_id AS "destinationId"`,
      params,
    );
    return rows;
  }

  /** Replay, inside its transaction: the deliveries of these canonical events (to one destination or all) again. */
  async resetForEvents(
    manager: EntityManager,
    canonicalEventIds: string[],
    destinationId?: string,
  ): Promise<{ id: string; destinationId: string }[]> {
    const [rows]: [{ id: string; destinationId: string }[], number] = await manager.query(
      `UPDATE delivery SET status = 'pending', next_attempt_at = now(), locked_until = NULL, retry_base = attempts,
           updated_at = now()
       WHERE canonical_event_id = ANY($1::text[]) AND ($2::text IS NULL OR destination_id = $2)
         AND status = ANY($3::text[])
       RETURNING id, destination_id AS "destinationId"`,
      [canonicalEventIds, destinationId ?? null, FINAL_STATUSES],
    );
    return rows;
  }

  /** Re-normalise wrote a newer revision: deliveries of the old one that have not gone out yet never will. */
  async supersedeWaiting(manager: EntityManager, canonicalEventIds: string[], reason: string): Promise<void> {
    await manager.query(
      `UPDATE delivery SET status = 'superseded', next_attempt_at = NULL, last_error = $2, updated_at = now()
       WHERE canonical_event_id = ANY($1::text[]) AND status IN ('pending', 'retrying')`,
      [canonicalEventIds, reason],
    );
  }
}

/** States a delivery ends in; only these can be retried or replayed. */
export const FINAL_STATUSES: DeliveryStatus[] = [
  'succeeded',
  'failed',
  'exhausted',
  'superseded',
  'unchanged',
  'skipped',
];

export interface DeliveryFilter {
  destinationId?: string;
  status?: DeliveryStatus;
  /** created_at bounds. */
  from?: Date;
  to?: Date;
}

export interface DeliveryLogPosition {
  /** created_at with microseconds, as Postgres text. */
  createdAt: string;
  id: string;
}

export interface DeliverySummary {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryLogRow = DeliverySummary & { position: string };

export interface AttemptView {
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  /** What the destination answered (capped at 16 KiB when received). */
  responseBody: string | null;
  nextAttemptAt: string | null;
}

export type DeliveryDetail = DeliverySummary & { attempts_log: AttemptView[] };

const SUMMARY = `id, destination_id AS "destinationId", canonical_event_id AS "canonicalEventId", status, attempts,
  next_attempt_at AS "nextAttemptAt", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt"`;

const POSITION = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position`;

const DETAIL = `d.id, d.destination_id AS "destinationId", d.canonical_event_id AS "canonicalEventId", d.status,
  d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_error AS "lastError", d.created_at AS "createdAt",
  d.updated_at AS "updatedAt",
  (SELECT coalesce(json_agg(json_build_object('attempt', a.attempt_no, 'startedAt', a.started_at,
     'durationMs', a.duration_ms, 'statusCode', a.status_code, 'outcome', a.outcome, 'error', a.error,
     'responseBody', a.response_body, 'nextAttemptAt', a.next_attempt_at) ORDER BY a.attempt_no, a.id), '[]')
   FROM delivery_attempt a WHERE a.delivery_id = d.id) AS attempts_log`;

function filterSql(filter: DeliveryFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  if (filter.destinationId) add((p) => `destination_id = ${p}`, filter.destinationId);
  if (filter.status) add((p) => `status = ${p}`, filter.status);
  if (filter.from) add((p) => `created_at >= ${p}`, filter.from);
  if (filter.to) add((p) => `created_at < ${p}`, filter.to);
  return { where, params };
}
