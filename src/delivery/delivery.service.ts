import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { CloudEvent } from '../canonical/cloud-event';
import { Coalescer, firstCallGets } from '../database/coalescer';
import { HotPool, hotStatement } from '../database/prepared';
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

/** DeliveryService.claim, for a batch of deliveries. */
export const DELIVERY_CLAIM = hotStatement(
  'delivery_claim',
  `UPDATE delivery d SET status = 'sending', attempts = attempts + 1,
          locked_until = now() + make_interval(secs => c.lease), updated_at = now()
   FROM unnest($1::text[], $2::float8[]) AS c(id, lease)
   -- IS TRUE: found by key, never through delivery_due (see HotStatement).
   WHERE d.id = c.id
     AND (d.status IN ('pending', 'retrying') OR (d.status = 'sending' AND d.locked_until < now())) IS TRUE
   RETURNING d.id, d.destination_id AS "destinationId", d.canonical_event_id AS "canonicalEventId", d.attempts,
             d.retry_base AS "retryBase",
             (SELECT e.event FROM canonical_event e WHERE e.id = d.canonical_event_id) AS event,
             (SELECT t.status = 'active' FROM destination t WHERE t.id = d.destination_id) AS "destinationActive"`,
);

/** DeliveryService.record, for a batch of attempts. */
export const DELIVERY_RECORD = hotStatement(
  'delivery_record',
  `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::int[], $6::int[], $7::int[],
                          $8::text[], $9::text[])
       AS i(id, status, next_attempt_at, error, attempts, status_code, duration_ms, response_body, outcome)
   ), moved AS (
     UPDATE delivery d SET status = i.status, next_attempt_at = i.next_attempt_at, locked_until = NULL,
            last_error = i.error, updated_at = now()
     FROM input i
     WHERE d.id = i.id AND (d.status = 'sending') IS TRUE AND d.attempts = i.attempts -- by key (HotStatement)
     RETURNING d.id, d.attempts
   ), attempt AS (
     INSERT INTO delivery_attempt (delivery_id, attempt_no, started_at, duration_ms, status_code, response_body, error, outcome, next_attempt_at)
     SELECT i.id, i.attempts, now() - make_interval(secs => i.duration_ms::float / 1000), i.duration_ms,
            i.status_code, i.response_body, i.error, i.outcome, i.next_attempt_at
     FROM input i JOIN moved m ON m.id = i.id AND m.attempts = i.attempts
   )
   SELECT id, attempts FROM moved`,
);

/**
 * `delivery` and `delivery_attempt` belong here. States: pending → sending → succeeded | retrying (→ sending …)
 * | failed | exhausted. `sending` is a lease (locked_until), so a job re-enqueued after a Redis flush cannot send
 * twice at once.
 */
@Injectable()
export class DeliveryService {
  private readonly claims = new Coalescer((inputs: { id: string; leaseSeconds: number }[]) => this.claimMany(inputs));
  private readonly records = new Coalescer((inputs: { delivery: ClaimedDelivery; attempt: AttemptRecord }[]) =>
    this.recordMany(inputs),
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly hot: HotPool,
  ) {}

  /**
   * Claims a delivery for one attempt: status `sending` with a lease, or `gone` when there is nothing to do. One
   * statement (issue 11) also reads what the attempt needs fresh: the canonical event, and whether the destination
   * is still active (its settings may come from a short-lived cache; its status must not). Claims made together
   * share that statement (Coalescer).
   */
  claim(id: string, leaseSeconds: number): Promise<Claim> {
    return this.claims.run({ id, leaseSeconds });
  }

  private async claimMany(inputs: { id: string; leaseSeconds: number }[]): Promise<Claim[]> {
    // The same delivery twice in one batch (two jobs for one row): only the first may have it.
    const unique = [...new Map(inputs.map((input) => [input.id, input])).values()];
    const rows = await this.hot.query<
      ClaimedDelivery & { event: CloudEvent | null; destinationActive: boolean | null }
    >(DELIVERY_CLAIM, [unique.map((input) => input.id), unique.map((input) => input.leaseSeconds)]);
    return firstCallGets(
      rows,
      inputs.map(({ id }) => id),
    ).map((row) => {
      if (!row) return { kind: 'gone' };
      const { event, destinationActive, ...delivery } = row;
      return { kind: 'claimed', delivery, event: event ?? undefined, destinationActive: destinationActive === true };
    });
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
   * Records made together share one statement (Coalescer).
   */
  record(delivery: ClaimedDelivery, attempt: AttemptRecord): Promise<boolean> {
    return this.records.run({ delivery, attempt });
  }

  private async recordMany(inputs: { delivery: ClaimedDelivery; attempt: AttemptRecord }[]): Promise<boolean[]> {
    const column = <T>(pick: (input: { delivery: ClaimedDelivery; attempt: AttemptRecord }) => T) => inputs.map(pick);
    // One statement, so one round trip and one commit (issue 11): an attempt row is written only where the fenced
    // UPDATE matched (the lease's attempt number), and both commit together.
    const rows = await this.hot.query<{ id: string; attempts: number }>(DELIVERY_RECORD, [
      column(({ delivery }) => delivery.id),
      column(({ attempt }) => (attempt.outcome === 'retry' ? 'retrying' : attempt.outcome)),
      column(({ attempt }) => attempt.nextAttemptAt ?? null),
      column(({ attempt }) => attempt.error),
      column(({ delivery }) => delivery.attempts),
      column(({ attempt }) => attempt.statusCode ?? null),
      column(({ attempt }) => Math.round(attempt.durationMs)),
      column(({ attempt }) => attempt.responseBody ?? null),
      column(({ attempt }) => attempt.outcome),
    ]);
    const moved = new Set(rows.map((row) => `${row.id}/${row.attempts}`));
    return inputs.map(({ delivery }) => moved.has(`${delivery.id}/${delivery.attempts}`));
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

  /**
   * Health figures of each destination, in one statement. Every part is an index step or range on delivery_health
   * (destination, status, updated_at): finished deliveries of the window, the backlog, the newest success, and the
   * newest failed attempt (a `retrying` delivery's updated_at is its last failed attempt; exhausted and failed ones
   * end there). Each count is its own index-only scan: one count with OR-ed conditions would read the table. The
   * backlog counts `sending` too: it is a pending or retrying delivery mid-attempt.
   */
  async health(destinationIds: string[], windowStart: Date): Promise<DeliveryHealthRow[]> {
    if (!destinationIds.length) return [];
    return this.dataSource.query(
      `SELECT d.id AS "destinationId", c.delivered, c.failed, c.backlog, s.at AS "lastSuccessAt",
              f.at AS "lastFailureAt", f.error AS "lastError"
       FROM unnest($1::text[]) AS d(id)
       CROSS JOIN LATERAL (
         SELECT (SELECT count(*) FROM delivery
                 WHERE destination_id = d.id AND status = 'succeeded' AND updated_at >= $2)::int AS delivered,
                (SELECT count(*) FROM delivery
                 WHERE destination_id = d.id AND status IN ('failed', 'exhausted') AND updated_at >= $2)::int AS failed,
                (SELECT count(*) FROM delivery
                 WHERE destination_id = d.id AND status IN ('pending', 'retrying', 'sending'))::int AS backlog) c
       CROSS JOIN LATERAL (
         SELECT max(updated_at) AS at FROM delivery WHERE destination_id = d.id AND status = 'succeeded') s
       LEFT JOIN LATERAL (
         SELECT last.updated_at AS at, last.last_error AS error
         FROM unnest(ARRAY['retrying', 'failed', 'exhausted']) AS failing(status)
         CROSS JOIN LATERAL (
           SELECT updated_at, last_error FROM delivery WHERE destination_id = d.id AND status = failing.status
           ORDER BY updated_at DESC LIMIT 1) last
         ORDER BY last.updated_at DESC LIMIT 1) f ON true`,
      [destinationIds, windowStart],
    );
  }

  /**
   * Of these destinations, those that have delivered nothing since `windowStart` while failing: at least one
   * delivery ended exhausted since their last success (ever) and since they were last re-enabled, and the first of
   * those is older than `windowStart`. Index steps on delivery_health only.
   */
  async failingThroughout(
    destinations: { id: string; enabledSince: Date | null }[],
    windowStart: Date,
  ): Promise<FailingDestination[]> {
    if (!destinations.length) return [];
    return this.dataSource.query(
      `SELECT d.id AS "destinationId", s.at AS "lastSuccessAt", e.at AS "failingSince", l.last_error AS "lastError"
       FROM unnest($1::text[], $2::timestamptz[]) AS d(id, enabled_since)
       CROSS JOIN LATERAL (
         SELECT max(updated_at) AS at FROM delivery WHERE destination_id = d.id AND status = 'succeeded') s
       CROSS JOIN LATERAL (
         SELECT updated_at AS at FROM delivery
         WHERE destination_id = d.id AND status = 'exhausted'
           AND updated_at > greatest(s.at, d.enabled_since, '-infinity'::timestamptz)
         ORDER BY updated_at LIMIT 1) e
       CROSS JOIN LATERAL (
         SELECT last_error FROM delivery WHERE destination_id = d.id AND status = 'exhausted'
         ORDER BY updated_at DESC LIMIT 1) l
       WHERE e.at <= $3`,
      [destinations.map((d) => d.id), destinations.map((d) => d.enabledSince), windowStart],
    );
  }

  /**
   * What a destination missed while disabled, [since, until): canonical events created then that it never got a
   * delivery of (the newest revision of each, of the given types, test events only when it takes them), plus the
   * deliveries it was owed that ended failed because it was disabled (retryCutOff).
   */
  async countMissed(scope: MissedScope): Promise<number> {
    const { where, params } = missedSql(scope);
    params.push(DESTINATION_DISABLED);
    const [row]: { count: number }[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM canonical_event c WHERE ${where})::int
            + (SELECT count(*) FROM delivery WHERE ${CUT_OFF} AND last_error = $${params.length})::int AS count`,
      params,
    );
    return row.count;
  }

  /**
   * The other half of what a destination missed: deliveries it was still owed when it was disabled, which ended
   * `failed` (DESTINATION_DISABLED) while it was. Sends up to `limit` of them back to `pending`, due now, as a manual
   * retry does; returns what the caller enqueues. A second call finds them no longer failed.
   */
  async retryCutOff(scope: MissedScope, limit: number): Promise<{ id: string; destinationId: string }[]> {
    const [rows]: [{ id: string; destinationId: string }[], number] = await this.dataSource.query(
      `UPDATE delivery SET status = 'pending', next_attempt_at = now(), locked_until = NULL, retry_base = attempts,
           updated_at = now()
       WHERE id IN (SELECT id FROM delivery WHERE ${CUT_OFF} AND last_error = $4
                    ORDER BY updated_at LIMIT $5 FOR UPDATE SKIP LOCKED)
       RETURNING id, destination_id AS "destinationId"`,
      [scope.destinationId, scope.since, scope.until, DESTINATION_DISABLED, limit],
    );
    return rows;
  }

  /** The missed events themselves, oldest first, one page after `after` (keyset on created_at, id). */
  async missedPage(scope: MissedScope, after: MissedPosition | undefined, limit: number): Promise<MissedEvent[]> {
    const { where, params } = missedSql(scope);
    const clauses = [where];
    if (after) {
      params.push(after.createdAt, after.id);
      clauses.push(`(c.created_at, c.id) > ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit);
    return this.dataSource.query(
      `SELECT c.id, c.event, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt"
       FROM canonical_event c WHERE ${clauses.join(' AND ')}
       ORDER BY c.created_at, c.id LIMIT $${params.length}`,
      params,
    );
  }

  /** Re-normalise wrote a newer revision: deliveries of the old one that have not gone out yet never will. */
  async supersedeWaiting(manager: EntityManager, canonicalEventIds: string[], reason: string): Promise<void> {
    await manager.query(
      `UPDATE delivery SET status = 'superseded', next_attempt_at = NULL, last_error = $2, updated_at = now()
       WHERE canonical_event_id = ANY($1::text[]) AND status IN ('pending', 'retrying')`,
      [canonicalEventIds, reason],
    );
  }
  /**
   * Issue 9: deliveries failing now, grouped by destination, status and error code. Failing now: failed or
   * exhausted (a retried one is pending again) and of its event's newest revision (a correction re-normalised since
   * replaced it). Served by the partial index delivery_failing.
   */
  async failingGroups(): Promise<FailingDeliveryGroup[]> {
    return this.dataSource.query(
      `WITH failing AS (${FAILING_SQL})
       SELECT destination_id AS "destinationId", status, code, count(*)::int AS count,
              min(updated_at) AS "firstSeenAt", max(updated_at) AS "lastSeenAt",
              (array_agg(id ORDER BY updated_at DESC, id DESC))[1:5] AS "sampleIds"
       FROM failing
       GROUP BY destination_id, status, code
       ORDER BY max(updated_at) DESC`,
      [null, null],
    );
  }

  /** The ids of one failing group, oldest first (what a bulk retry of the group sends back). */
  async failingIds(key: FailingDeliveryKey, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH failing AS (${FAILING_SQL})
       SELECT id FROM failing WHERE code = $3 ORDER BY updated_at, id LIMIT $4`,
      [key.destinationId, key.status, key.code, limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Final outcomes per destination per hour bucket from `from` (bucket 0), by when the attempt was made: attempts
   * that succeeded, and attempts that ended the delivery failed or exhausted. Index delivery_attempt_started.
   */
  async hourlyOutcomes(
    from: Date,
    buckets: number,
  ): Promise<{ destinationId: string; delivered: number[]; failed: number[] }[]> {
    return this.dataSource.query(
      `WITH hit AS (
         SELECT d.destination_id, floor(extract(epoch FROM a.started_at - $1::timestamptz) / 3600)::int AS n,
                count(*) FILTER (WHERE a.outcome = 'succeeded')::int AS delivered,
                count(*) FILTER (WHERE a.outcome IN ('failed', 'exhausted'))::int AS failed
         FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
         WHERE a.started_at >= $1 AND a.started_at < $1::timestamptz + make_interval(hours => $2)
           AND a.outcome IN ('succeeded', 'failed', 'exhausted')
         GROUP BY 1, 2)
       SELECT k.destination_id AS "destinationId",
              array_agg(coalesce(hit.delivered, 0) ORDER BY b.n) AS delivered,
              array_agg(coalesce(hit.failed, 0) ORDER BY b.n) AS failed
       FROM (SELECT DISTINCT destination_id FROM hit) k
       CROSS JOIN generate_series(0, $2 - 1) AS b(n)
       LEFT JOIN hit ON hit.destination_id = k.destination_id AND hit.n = b.n
       GROUP BY k.destination_id`,
      [from, buckets],
    );
  }
}

export interface DeliveryHealthRow {
  destinationId: string;
  /** Deliveries that succeeded in the window. */
  delivered: number;
  /** Deliveries that ended failed or exhausted in the window. */
  failed: number;
  /** Deliveries owed an attempt: pending, retrying, or mid-attempt. */
  backlog: number;
  lastSuccessAt: Date | null;
  /** When the newest failed attempt was recorded (retrying, failed or exhausted). */
  lastFailureAt: Date | null;
  /** That attempt's error, as stored (callers summarise and redact it before showing it). */
  lastError: string | null;
}

export interface FailingDestination {
  destinationId: string;
  lastSuccessAt: Date | null;
  /** When the first delivery since the last success ended exhausted. */
  failingSince: Date;
  lastError: string | null;
}

/** Which canonical events a destination missed: created in [since, until), of these types, test ones or not. */
export interface MissedScope {
  destinationId: string;
  types: string[];
  includeTest: boolean;
  since: Date;
  until: Date;
}

export interface MissedPosition {
  /** created_at with microseconds, as Postgres text. */
  createdAt: string;
  id: string;
}

export interface MissedEvent extends MissedPosition {
  event: CloudEvent;
}

/** Deliveries of $1 that ended `failed` between $2 and $3 (on delivery_health); the caller matches the error. */
const CUT_OFF = `destination_id = $1 AND status = 'failed' AND updated_at >= $2 AND updated_at < $3`;

function missedSql(scope: MissedScope): { where: string; params: unknown[] } {
  return {
    where: `c.created_at >= $2 AND c.created_at < $3 AND c.type = ANY($4::text[]) AND ($5::boolean OR NOT c.test)
      AND NOT EXISTS (SELECT 1 FROM canonical_event n WHERE n.inbound_event_id = c.inbound_event_id
                      AND n.revision > c.revision)
      AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.destination_id = $1 AND d.canonical_event_id = c.id)`,
    params: [scope.destinationId, scope.since, scope.until, scope.types, scope.includeTest],
  };
}

/**
 * The error of a delivery that was still owed an attempt when its destination was disabled: it ends `failed` with
 * this, and counts among what the destination missed (replay-missed sends it again once re-enabled).
 */
export const DESTINATION_DISABLED = 'destination is disabled';

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

/** One failing group (issue 9): `code` is the CRM error code and HTTP status, or what stood for them. */
export interface FailingDeliveryKey {
  destinationId: string;
  status: 'failed' | 'exhausted';
  code: string;
}

export interface FailingDeliveryGroup extends FailingDeliveryKey {
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  sampleIds: string[];
}

/**
 * The code a failure is grouped by, from the last error and the last attempt's HTTP status: a CRM's error code
 * (`HTTP 400 VALIDATION_ERROR`, `REQUIRED_FIELD_MISSING`), else the HTTP status (`HTTP 502`), else a network error
 * code (`ECONNREFUSED`), else the error text with its numbers blanked (`timed out after N ms`).
 */
const FAILURE_CODE_SQL = String.raw`CASE
    WHEN d.last_error ~ '\m[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\M'
      THEN concat_ws(' ', 'HTTP ' || last.status_code,
                     substring(d.last_error FROM '\m([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])\M'))
    WHEN last.status_code IS NOT NULL THEN 'HTTP ' || last.status_code
    WHEN d.last_error ~ '\mE[A-Z]{3,}\M' THEN substring(d.last_error FROM '\m(E[A-Z]{3,})\M')
    ELSE left(regexp_replace(coalesce(d.last_error, 'unknown error'), '[0-9]+', 'N', 'g'), 80)
  END`;

/** Failed or exhausted deliveries of their event's newest revision, with their code; $1/$2 narrow by destination and status. */
const FAILING_SQL = `
  SELECT d.id, d.destination_id, d.status, d.updated_at, ${FAILURE_CODE_SQL} AS code
  FROM delivery d
  JOIN canonical_event c ON c.id = d.canonical_event_id
  LEFT JOIN LATERAL (SELECT a.status_code FROM delivery_attempt a WHERE a.delivery_id = d.id
                     ORDER BY a.attempt_no DESC, a.id DESC LIMIT 1) last ON true
  WHERE d.status IN ('failed', 'exhausted')
    AND ($1::text IS NULL OR d.destination_id = $1) AND ($2::text IS NULL OR d.status = $2)
    AND NOT EXISTS (SELECT 1 FROM canonical_event n
                    WHERE n.inbound_event_id = c.inbound_event_id AND n.revision > c.revision)`;
