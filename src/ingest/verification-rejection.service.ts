import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { randomId } from '../common/ids';
import { ROOT_LOGGER } from '../common/logger';
import { sourceFingerprint } from '../common/source-fingerprint';

/** What is kept of one refused delivery: never the body, a header value or a signature. */
export interface RejectionRecord {
  sourceId: string;
  status: number;
  /** A code: the verifier's reason (`bad_signature`, …) or the ingest error code (`malformed_json`, …). */
  reason: string;
  message: string;
  correlationId?: string;
}

export interface RejectionLimits {
  /** Newest rows kept per source. */
  perSource: number;
  /** A source's rows are trimmed on every n-th rejection this process records for it, not on each one. */
  trimEvery: number;
  /** Inserts in flight at once; beyond it a rejection is dropped, so a flood never holds the pool ingest needs. */
  maxInFlight: number;
}

export const DEFAULT_REJECTION_LIMITS: RejectionLimits = { perSource: 1000, trimEvery: 50, maxInFlight: 4 };
export const REJECTION_LIMITS = Symbol('REJECTION_LIMITS');

/** Longest message stored: the answer's message is one short sentence; anything longer is cut. */
const MAX_MESSAGE = 200;
const WARN_EVERY_MS = 60_000;

export interface RejectionGroupRow {
  sourceId: string;
  reason: string;
  status: number;
  message: string;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  sampleIds: string[];
}

/**
 * `verification_rejection` belongs here (issue 9: verification failures grouped by source, counted in a bounded
 * table). Recording is best effort and never awaited by the answer: the vendor gets the same 401/400/415 at the
 * same moment whether the row is written, dropped (too many in flight) or lost (Postgres down).
 */
@Injectable()
export class VerificationRejectionService {
  private inFlight = 0;
  private readonly sinceTrim = new Map<string, number>();
  private lastWarnAt = 0;
  private readonly limits: RejectionLimits;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(REJECTION_LIMITS) limits?: RejectionLimits,
  ) {
    this.limits = limits ?? DEFAULT_REJECTION_LIMITS;
  }

  /** Fire and forget: returns at once and never throws. The promise (for tests) settles when the row is written. */
  record(rejection: RejectionRecord): Promise<void> {
    if (this.inFlight >= this.limits.maxInFlight) return Promise.resolve();
    this.inFlight++;
    return this.write(rejection)
      .catch((err: Error) => this.warn(rejection.sourceId, err))
      .finally(() => this.inFlight--);
  }

  private async write(rejection: RejectionRecord): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO verification_rejection (id, source_id, status, reason, message, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        randomId('rej'),
        rejection.sourceId,
        rejection.status,
        rejection.reason.slice(0, 64),
        rejection.message.slice(0, MAX_MESSAGE),
        rejection.correlationId?.slice(0, 128) ?? null,
      ],
    );
    const count = (this.sinceTrim.get(rejection.sourceId) ?? 0) + 1;
    if (count < this.limits.trimEvery) {
      if (this.sinceTrim.size > 10_000) this.sinceTrim.clear();
      this.sinceTrim.set(rejection.sourceId, count);
      return;
    }
    this.sinceTrim.delete(rejection.sourceId);
    await this.trim(rejection.sourceId);
  }

  /** Keeps the newest `perSource` rows of one source; one index range scan on (source_id, at DESC). */
  async trim(sourceId: string): Promise<number> {
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM verification_rejection
       WHERE source_id = $1
         AND (at, id) < (SELECT at, id FROM verification_rejection WHERE source_id = $1
                         ORDER BY at DESC, id DESC OFFSET $2 LIMIT 1)`,
      [sourceId, this.limits.perSource - 1],
    );
    return affected;
  }

  /** Retention: deletes at most `limit` rows recorded before `cutoff`. SKIP LOCKED, like the other purges. */
  async purge(cutoff: Date, limit: number): Promise<number> {
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM verification_rejection
       WHERE id IN (SELECT id FROM verification_rejection WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, limit],
    );
    return affected;
  }

  /** Rejections since `since`, by source and reason, newest group first. */
  async groups(since: Date): Promise<RejectionGroupRow[]> {
    return this.dataSource.query(
      `SELECT source_id AS "sourceId", reason, count(*)::int AS count,
              (array_agg(status ORDER BY at DESC, id DESC))[1] AS status,
              (array_agg(message ORDER BY at DESC, id DESC))[1] AS message,
              min(at) AS "firstSeenAt", max(at) AS "lastSeenAt",
              (array_agg(id ORDER BY at DESC, id DESC))[1:5] AS "sampleIds"
       FROM verification_rejection
       WHERE at >= $1
       GROUP BY source_id, reason
       ORDER BY max(at) DESC`,
      [since],
    );
  }

  /** Rejections per source per hour bucket from `from` (bucket 0) for `buckets` hours. */
  async hourly(from: Date, buckets: number): Promise<{ sourceId: string; counts: number[] }[]> {
    return this.dataSource.query(
      `WITH hit AS (
         SELECT source_id, floor(extract(epoch FROM at - $1::timestamptz) / 3600)::int AS n, count(*)::int AS c
         FROM verification_rejection
         WHERE at >= $1 AND at < $1::timestamptz + make_interval(hours => $2)
         GROUP BY 1, 2)
       SELECT k.source_id AS "sourceId", array_agg(coalesce(hit.c, 0) ORDER BY b.n) AS counts
       FROM (SELECT DISTINCT source_id FROM hit) k
       CROSS JOIN generate_series(0, $2 - 1) AS b(n)
       LEFT JOIN hit ON hit.source_id = k.source_id AND hit.n = b.n
       GROUP BY k.source_id`,
      [from, buckets],
    );
  }

  private warn(sourceId: string, err: Error): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(
      { source: sourceFingerprint(sourceId), err: err.message },
      'could not record a verification rejection (best effort; the answer was unchanged)',
    );
  }
}
