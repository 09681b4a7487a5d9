import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AttemptOutcome } from './delivery-attempt.entity';

/** A delivery this worker holds the `sending` lease of. `attempts` (this attempt's number) fences the lease. */
export interface ClaimedDelivery {
  id: string;
  destinationId: string;
  canonicalEventId: string;
  attempts: number;
}

export type Claim =
  | { kind: 'claimed'; delivery: ClaimedDelivery }
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

  /** Claims a delivery for one attempt: status `sending` with a lease, or `gone` when there is nothing to do. */
  async claim(id: string, leaseSeconds: number): Promise<Claim> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [ClaimedDelivery[], number] = await this.dataSource.query(
      `UPDATE delivery SET status = 'sending', attempts = attempts + 1,
              locked_until = now() + make_interval(secs => $2), updated_at = now()
       WHERE id = $1 AND (status IN ('pending', 'retrying') OR (status = 'sending' AND locked_until < now()))
       RETURNING id, destination_id AS "destinationId", canonical_event_id AS "canonicalEventId", attempts`,
      [id, leaseSeconds],
    );
    return rows.length ? { kind: 'claimed', delivery: rows[0] } : { kind: 'gone' };
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
    return this.dataSource.transaction(async (manager) => {
      const [updated]: [unknown[], number] = await manager.query(
        `UPDATE delivery SET status = $2, next_attempt_at = $3, locked_until = NULL, last_error = $4, updated_at = now()
         WHERE id = $1 AND status = 'sending' AND attempts = $5 RETURNING id`,
        [delivery.id, status, attempt.nextAttemptAt ?? null, attempt.error, delivery.attempts],
      );
      if (!updated.length) return false;
      await manager.query(
        `INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, duration_ms, status_code, response_body, error, outcome, next_attempt_at)
         VALUES ($1, $2, now() - make_interval(secs => $4::float / 1000), $4, $3, $5, $6, $7, $8)`,
        [
          delivery.id,
          delivery.attempts,
          attempt.statusCode ?? null,
          attempt.durationMs,
          attempt.responseBody ?? null,
          attempt.error,
          attempt.outcome,
          attempt.nextAttemptAt ?? null,
        ],
      );
      return true;
    });
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

  /** The deliveries of one inbound event's canonical events, each with its attempt log (the events API). */
  async forInbound(inboundEventId: string): Promise<unknown[]> {
    return this.dataSource.query(
      `SELECT d.id, d.destination_id AS "destinationId", d.canonical_event_id AS "canonicalEventId", d.status,
              d.attempts, d.next_attempt_at AS "nextAttemptAt", d.last_error AS "lastError",
              coalesce(json_agg(json_build_object('attempt', a.attempt_no, 'statusCode', a.status_code,
                'outcome', a.outcome, 'error', a.error, 'durationMs', a.duration_ms, 'startedAt', a.started_at)
                ORDER BY a.attempt_no) FILTER (WHERE a.id IS NOT NULL), '[]') AS attempts_log
       FROM delivery d JOIN canonical_event c ON c.id = d.canonical_event_id
       LEFT JOIN delivery_attempt a ON a.delivery_id = d.id
       WHERE c.inbound_event_id = $1 GROUP BY d.id ORDER BY d.created_at`,
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
}
