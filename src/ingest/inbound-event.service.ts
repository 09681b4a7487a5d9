import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { CloudEvent } from '../canonical/cloud-event';
import { Coalescer, firstCallGets } from '../database/coalescer';
import { HotPool, hotStatement } from '../database/prepared';
import type { MappingEnrichment } from '../mappings/mapping.worker';
import type { EnrichmentStatus } from './inbound-event.entity';

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
  /** Retention emptied the payload and headers (HUB_RETENTION_DAYS). */
  purgedAt?: Date;
  /** Issue 12: absent when the event is not enriched. */
  enrichmentStatus?: EnrichmentStatus;
  enrichmentError?: string;
}

const SUMMARY = `id, source_id AS "sourceId", vendor_event_type AS "vendorEventType", vendor_event_id AS "vendorEventId",
  status, error, test, received_at AS "receivedAt", occurred_at AS "occurredAt", purged_at AS "purgedAt",
  enrichment_status AS "enrichmentStatus", enrichment_error AS "enrichmentError"`;

/** Filters of the inbound log; every one given must hold. `sourceIds` and `ids` are resolved by the caller. */
export interface InboundLogFilter {
  status?: string;
  sourceIds?: string[];
  vendorEventType?: string;
  vendorEventId?: string;
  test?: boolean;
  from?: Date;
  to?: Date;
  ids?: string[];
  enrichmentStatus?: EnrichmentStatus;
}

/** Where a page of the inbound log ended. */
export interface InboundLogPosition {
  /** received_at with microseconds, as Postgres text. */
  receivedAt: string;
  id: string;
}

export type InboundLogRow = InboundEventSummary & { position: string };

const POSITION = `to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position`;

/** What the normalize step needs of one inbound event it has just started on. */
export interface InboundForNormalize {
  id: string;
  sourceId: string;
  vendorEventType: string;
  vendorEventId: string | null;
  receivedAt: Date;
  occurredAt: Date | null;
  test: boolean;
  body: Buffer;
  /** Including this one. */
  normalizeAttempts: number;
  /** Issue 12: null when the event is not enriched; the document as JSON text (the mapping thread parses it). */
  enrichmentStatus: EnrichmentStatus | null;
  enrichment: string | null;
  enrichmentError: string | null;
}

/** What beginNormalize reads besides the event, in the same statement. */
export interface NormalizeStart extends InboundForNormalize {
  /** The source's connector; null when the source no longer exists. */
  connector: string | null;
  /** The newest stored revision of this event's canonical output, if any (what re-normalising compares with). */
  latest: { revision: number; events: CloudEvent[] } | null;
}

/** The columns InboundForNormalize reads, for the queries that return one. */
const FOR_NORMALIZE = `id, source_id AS "sourceId", vendor_event_type AS "vendorEventType",
  vendor_event_id AS "vendorEventId", received_at AS "receivedAt", occurred_at AS "occurredAt", test, body,
  normalize_attempts AS "normalizeAttempts", enrichment_status AS "enrichmentStatus",
  enrichment::text AS "enrichment", enrichment_error AS "enrichmentError"`;

/** What a normalisation starts from (NormalizeStart), for the statements that count a try on `inbound_event i`. */
const NORMALIZE_START = `${FOR_NORMALIZE},
  (SELECT s.connector FROM source s WHERE s.id = i.source_id) AS connector,
  (SELECT json_build_object('revision', c.revision, 'events', json_agg(c.event ORDER BY c.index))
     FROM canonical_event c
    WHERE c.inbound_event_id = i.id
      AND c.revision = (SELECT max(revision) FROM canonical_event WHERE inbound_event_id = i.id)
    GROUP BY c.revision) AS latest`;

/**
 * Waiting for normalisation and not tried for `$2` seconds (a try that recent has its retry scheduled): the rows the
 * reconciler's waiting() lists and the backlog pull claims. The statements that use it bind the seconds as $2.
 */
const WAITING_UNTRIED = `status = 'received' AND enrichment_status IS DISTINCT FROM 'pending'
  AND (last_attempt_at IS NULL OR last_attempt_at < now() - make_interval(secs => $2))`;

/** InboundEventService.beginNormalize, for a batch of events. */
export const INBOUND_BEGIN_NORMALIZE = hotStatement(
  'inbound_begin_normalize',
  `UPDATE inbound_event i SET normalize_attempts = normalize_attempts + 1, last_attempt_at = now()
   -- IS TRUE: found by key, never through inbound_event_pending (see HotStatement).
   WHERE id = ANY($1::text[]) AND (status = 'received') IS TRUE AND enrichment_status IS DISTINCT FROM 'pending'
   RETURNING ${NORMALIZE_START}`,
);

/**
 * InboundEventService.pullWaiting: the oldest waiting events nobody has tried lately, claimed with their try
 * counted. The one hot statement that reads the backlog on purpose: through inbound_event_pending, in arrival
 * order, LIMIT $1, skipping rows another process holds.
 */
export const INBOUND_PULL_WAITING = hotStatement(
  'inbound_pull_waiting',
  `UPDATE inbound_event i SET normalize_attempts = normalize_attempts + 1, last_attempt_at = now()
   WHERE i.id IN (SELECT id FROM inbound_event WHERE ${WAITING_UNTRIED}
                  ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     AND (i.status = 'received') IS TRUE
   RETURNING ${NORMALIZE_START}`,
);

/** The mapping's view of an event's enrichment (`$enrichment` and the CloudEvent flag); undefined when none. */
export function enrichmentOf(
  inbound: Pick<InboundForNormalize, 'enrichmentStatus' | 'enrichment' | 'enrichmentError'>,
): MappingEnrichment | undefined {
  if (inbound.enrichmentStatus === 'enriched') {
    return { status: 'enriched', ...(inbound.enrichment !== null ? { document: inbound.enrichment } : {}) };
  }
  if (inbound.enrichmentStatus === 'failed') {
    return { status: 'failed', ...(inbound.enrichmentError ? { error: inbound.enrichmentError } : {}) };
  }
  return undefined;
}

/** What the enrich step needs of one inbound event it has just claimed. */
export interface InboundForEnrich {
  id: string;
  sourceId: string;
  vendorEventType: string;
  body: Buffer;
  /** Including this one. */
  enrichmentAttempts: number;
}

/** The enrichment step as the event detail shows it. */
export interface InboundEnrichment {
  status: EnrichmentStatus;
  attempts: number;
  errorCode?: string;
  error?: string;
  truncated?: boolean;
  bytes?: number;
  nextAttemptAt?: Date;
  updatedAt?: Date;
  document?: unknown;
}

/** One group of failed enrichments: one source, one reason code. */
export interface EnrichmentFailureGroup {
  sourceId: string;
  code: string;
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  /** Up to 5 inbound event ids, newest first. */
  sampleIds: string[];
  lastError: string;
}

export type EnrichmentResult =
  | { status: 'enriched'; document: unknown; truncated: boolean; bytes: number }
  | { status: 'failed'; errorCode: string; error: string };

/**
 * The ingest module owns `inbound_event`; the pipeline and the ops API change it only through here.
 */
@Injectable()
export class InboundEventService {
  private readonly normalizeStarts = new Coalescer((ids: string[]) => this.beginNormalizeMany(ids));

  constructor(
    private readonly dataSource: DataSource,
    private readonly hot: HotPool,
  ) {}

  /**
   * One page of the inbound log, newest first (received_at, then id: a stable order for keyset paging). `after`
   * is the last row of the previous page; its time is carried as text so Postgres's microseconds survive.
   */
  async list(filter: InboundLogFilter, after: InboundLogPosition | undefined, limit: number): Promise<InboundLogRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (filter.status) add((p) => `status = ${p}`, filter.status);
    if (filter.sourceIds) add((p) => `source_id = ANY(${p}::text[])`, filter.sourceIds);
    if (filter.vendorEventType) add((p) => `vendor_event_type = ${p}`, filter.vendorEventType);
    if (filter.vendorEventId) add((p) => `vendor_event_id = ${p}`, filter.vendorEventId);
    if (filter.test !== undefined) add((p) => `test = ${p}`, filter.test);
    if (filter.from) add((p) => `received_at >= ${p}`, filter.from);
    if (filter.to) add((p) => `received_at < ${p}`, filter.to);
    if (filter.ids) add((p) => `id = ANY(${p}::text[])`, filter.ids);
    if (filter.enrichmentStatus) add((p) => `enrichment_status = ${p}`, filter.enrichmentStatus);
    if (after) {
      params.push(after.receivedAt, after.id);
      where.push(`(received_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit);
    return this.dataSource.query(
      `SELECT ${SUMMARY}, ${POSITION} FROM inbound_event
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY received_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async get(
    id: string,
  ): Promise<(InboundEventSummary & { body: Buffer; headers: Record<string, string> }) | undefined> {
    const rows: (InboundEventSummary & { body: Buffer; headers: Record<string, string> })[] =
      await this.dataSource.query(`SELECT ${SUMMARY}, body, headers FROM inbound_event WHERE id = $1`, [id]);
    return rows[0];
  }

  /** The newest events of one connector and vendor type, with their bodies: a mapping dry-run runs on them. */
  async recentOfType(connector: string, vendorEventType: string, limit: number): Promise<InboundForNormalize[]> {
    return this.dataSource.query(
      `SELECT i.id, i.source_id AS "sourceId", i.vendor_event_type AS "vendorEventType",
              i.vendor_event_id AS "vendorEventId", i.received_at AS "receivedAt", i.occurred_at AS "occurredAt",
              i.test, i.body, i.normalize_attempts AS "normalizeAttempts", i.enrichment_status AS "enrichmentStatus",
              i.enrichment::text AS "enrichment", i.enrichment_error AS "enrichmentError"
       FROM inbound_event i JOIN source s ON s.id = i.source_id
       WHERE s.connector = $1 AND i.vendor_event_type = $2
       ORDER BY i.received_at DESC, i.id LIMIT $3`,
      [connector, vendorEventType, limit],
    );
  }

  /**
   * Counts a normalisation try and returns the event, or null when it is no longer waiting (done, failed, gone) or
   * its enrichment is still pending (the enrich step enqueues it when done). The same statement reads the source's
   * connector and the newest stored output (issue 11: one round trip where there were three); starts made together
   * share it (Coalescer).
   */
  beginNormalize(id: string): Promise<NormalizeStart | null> {
    return this.normalizeStarts.run(id);
  }

  private async beginNormalizeMany(ids: string[]): Promise<(NormalizeStart | null)[]> {
    const rows = await this.hot.query<NormalizeStart>(INBOUND_BEGIN_NORMALIZE, [ids]);
    // The same event twice in one batch (two jobs for one row): only the first counts as started.
    return firstCallGets(rows, ids).map((row) => row ?? null);
  }

  /**
   * Issue 11: up to `limit` events waiting for normalisation that nobody has tried within `retrySeconds`, oldest
   * first, each with this try counted (the same rows the reconciler lists, minus its grace). A HUB_ROLE=all process
   * pulls its backlog this way, in batches, instead of through the normalize queue.
   */
  pullWaiting(limit: number, retrySeconds: number): Promise<NormalizeStart[]> {
    return this.hot.query<NormalizeStart>(INBOUND_PULL_WAITING, [limit, retrySeconds]);
  }

  async markFailed(id: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE inbound_event SET status = 'failed', error = $2 WHERE id = $1 AND status = 'received'`,
      [id, reason],
    );
  }

  /** Inside the normalize transaction, with the canonical events and deliveries it wrote. */
  async markNormalized(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE inbound_event SET status = 'normalized', error = NULL, normalized_at = now() WHERE id = $1`,
      [id],
    );
  }

  /**
   * Events still waiting for normalisation that nobody has tried lately: the reconciler's work list. Rows tried
   * within `retrySeconds` are left to the retry already scheduled, so a pass never spins on the same rows.
   */
  async waiting(graceSeconds: number, retrySeconds: number, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM inbound_event
       WHERE ${WAITING_UNTRIED} AND received_at < now() - make_interval(secs => $1)
       ORDER BY received_at LIMIT $3`,
      [graceSeconds, retrySeconds, limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Sends an event back to be normalised again (any status: a corrected mapping may change an event that went
   * through), with a fresh attempt budget; undefined when there is no such event.
   */
  async reopen(id: string): Promise<InboundEventSummary | undefined> {
    const [rows]: [InboundEventSummary[], number] = await this.dataSource.query(
      `UPDATE inbound_event SET status = 'received', error = NULL, normalize_attempts = 0
       WHERE id = $1 AND purged_at IS NULL RETURNING ${SUMMARY}`,
      [id],
    );
    return rows[0];
  }

  /**
   * Sends many events back to be normalised again (the issues bulk re-normalise); purged ones cannot be and are
   * left out. Returns the ids reopened.
   */
  async reopenMany(ids: string[]): Promise<string[]> {
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE inbound_event SET status = 'received', error = NULL, normalize_attempts = 0
       WHERE id = ANY($1::text[]) AND purged_at IS NULL RETURNING id`,
      [ids],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Issue 9: events that failed normalisation (payload still there, so re-normalising can fix them), grouped by
   * connector, vendor event type and reason, the reason with ids, times and counts blanked so that one bug is one
   * group. Served by the partial index inbound_event_failed.
   */
  async failedGroups(): Promise<FailedEventGroup[]> {
    return this.dataSource.query(
      `WITH failed AS (${FAILED_SQL})
       SELECT connector, event_type AS "eventType", reason, count(*)::int AS count,
              min(seen_at) AS "firstSeenAt", max(seen_at) AS "lastSeenAt",
              (array_agg(id ORDER BY seen_at DESC, id DESC))[1:5] AS "sampleIds"
       FROM failed
       GROUP BY connector, event_type, reason
       ORDER BY max(seen_at) DESC`,
      [null, null],
    );
  }

  /** The ids of one failed group, oldest first. */
  async failedIds(key: FailedEventKey, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH failed AS (${FAILED_SQL}) SELECT id FROM failed WHERE reason = $3 ORDER BY seen_at, id LIMIT $4`,
      [key.connector, key.eventType, key.reason, limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Issue 12: claims one enrichment try. Counts it and leases the event until `leaseSeconds` from now, so the
   * reconciler leaves a fetch in flight alone but picks the event up if its worker died. Null when the event no
   * longer waits for enrichment.
   */
  async beginEnrich(id: string, leaseSeconds: number): Promise<InboundForEnrich | null> {
    const [rows]: [InboundForEnrich[], number] = await this.dataSource.query(
      `UPDATE inbound_event SET enrichment_attempts = enrichment_attempts + 1,
              enrichment_next_at = now() + make_interval(secs => $2)
       WHERE id = $1 AND status = 'received' AND enrichment_status = 'pending' AND purged_at IS NULL
       RETURNING id, source_id AS "sourceId", vendor_event_type AS "vendorEventType", body,
                 enrichment_attempts AS "enrichmentAttempts"`,
      [id, leaseSeconds],
    );
    return rows[0] ?? null;
  }

  /** The end of the enrich step: the document (enriched) or the reason (failed, no document). */
  async finishEnrichment(id: string, result: EnrichmentResult): Promise<boolean> {
    const enriched = result.status === 'enriched';
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `UPDATE inbound_event SET enrichment_status = $2, enrichment = $3::jsonb, enrichment_truncated = $4,
              enrichment_bytes = $5, enrichment_error_code = $6, enrichment_error = $7, enrichment_next_at = NULL,
              enrichment_updated_at = now()
       WHERE id = $1 AND enrichment_status = 'pending'`,
      [
        id,
        result.status,
        enriched ? JSON.stringify(result.document) : null,
        enriched ? result.truncated : null,
        enriched ? result.bytes : null,
        enriched ? null : result.errorCode,
        enriched ? null : result.error,
      ],
    );
    return affected > 0;
  }

  /** A retry of the fetch is due at `nextAt`; the last failure is kept for the event detail. */
  async scheduleEnrichmentRetry(id: string, nextAt: Date, errorCode: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE inbound_event SET enrichment_next_at = $2, enrichment_error_code = $3, enrichment_error = $4,
              enrichment_updated_at = now()
       WHERE id = $1 AND enrichment_status = 'pending'`,
      [id, nextAt, errorCode, error],
    );
  }

  /** Events waiting for enrichment whose next try is due (or whose lease ran out): the reconciler's work list. */
  async enrichmentDue(graceSeconds: number, limit: number): Promise<{ id: string; sourceId: string }[]> {
    return this.dataSource.query(
      `SELECT id, source_id AS "sourceId" FROM inbound_event
       WHERE enrichment_status = 'pending' AND status = 'received'
         AND received_at < now() - make_interval(secs => $1)
         AND (enrichment_next_at IS NULL OR enrichment_next_at <= now())
       ORDER BY enrichment_next_at NULLS FIRST LIMIT $2`,
      [graceSeconds, limit],
    );
  }

  /**
   * `POST /api/events/:id/enrich`: the event goes back to fetching (then normalising) with fresh budgets. The old
   * document stays until the new fetch ends. Undefined when there is no such event or its payload was purged.
   */
  async reopenEnrichment(id: string): Promise<InboundEventSummary | undefined> {
    const [rows]: [InboundEventSummary[], number] = await this.dataSource.query(
      `UPDATE inbound_event SET status = 'received', error = NULL, normalize_attempts = 0,
              enrichment_status = 'pending', enrichment_attempts = 0, enrichment_next_at = NULL,
              enrichment_error_code = NULL, enrichment_error = NULL, enrichment_updated_at = now()
       WHERE id = $1 AND purged_at IS NULL RETURNING ${SUMMARY}`,
      [id],
    );
    return rows[0];
  }

  /**
   * Issue 12 seam for the issues view: events that went on without their enrichment, grouped by source and reason
   * code (the partial index inbound_event_enrichment_failed serves it). An event leaves its group once a re-fetch
   * (`POST /api/events/:id/enrich`) succeeds.
   */
  async enrichmentFailureGroups(limit = 100): Promise<EnrichmentFailureGroup[]> {
    return this.dataSource.query(
      `SELECT source_id AS "sourceId", enrichment_error_code AS code, count(*)::int AS count,
              min(enrichment_updated_at) AS "firstSeenAt", max(enrichment_updated_at) AS "lastSeenAt",
              (array_agg(id ORDER BY enrichment_updated_at DESC, id))[1:5] AS "sampleIds",
              (array_agg(enrichment_error ORDER BY enrichment_updated_at DESC, id))[1] AS "lastError"
       FROM inbound_event WHERE enrichment_status = 'failed'
       GROUP BY source_id, enrichment_error_code ORDER BY max(enrichment_updated_at) DESC LIMIT $1`,
      [limit],
    );
  }

  /** The events of one failure group, newest first: what a group action re-enriches. */
  async enrichmentFailures(sourceId: string, code: string, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM inbound_event
       WHERE enrichment_status = 'failed' AND source_id = $1 AND enrichment_error_code = $2
       ORDER BY enrichment_updated_at DESC, id LIMIT $3`,
      [sourceId, code, limit],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Per connector per hour bucket from `from` (bucket 0): events stored, and of those the ones that failed
   * normalisation. Index inbound_event_log (received_at).
   */
  async hourlyByConnector(
    from: Date,
    buckets: number,
  ): Promise<{ connector: string; accepted: number[]; failed: number[] }[]> {
    return this.dataSource.query(
      `WITH hit AS (
         SELECT s.connector, floor(extract(epoch FROM i.received_at - $1::timestamptz) / 3600)::int AS n,
                count(*)::int AS accepted, count(*) FILTER (WHERE i.status = 'failed')::int AS failed
         FROM inbound_event i JOIN source s ON s.id = i.source_id
         WHERE i.received_at >= $1 AND i.received_at < $1::timestamptz + make_interval(hours => $2)
         GROUP BY 1, 2)
       SELECT k.connector, array_agg(coalesce(hit.accepted, 0) ORDER BY b.n) AS accepted,
              array_agg(coalesce(hit.failed, 0) ORDER BY b.n) AS failed
       FROM (SELECT DISTINCT connector FROM hit) k
       CROSS JOIN generate_series(0, $2 - 1) AS b(n)
       LEFT JOIN hit ON hit.connector = k.connector AND hit.n = b.n
       GROUP BY k.connector`,
      [from, buckets],
    );
  }

  /** The enrichment step of one event, document included; undefined when the event is not enriched. */
  async enrichmentOf(id: string): Promise<InboundEnrichment | undefined> {
    const rows: (InboundEnrichment & { status: EnrichmentStatus | null })[] = await this.dataSource.query(
      `SELECT enrichment_status AS status, enrichment_attempts AS attempts, enrichment_error_code AS "errorCode",
              enrichment_error AS error, enrichment_truncated AS truncated, enrichment_bytes AS bytes,
              enrichment_next_at AS "nextAttemptAt", enrichment_updated_at AS "updatedAt", enrichment AS document
       FROM inbound_event WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row?.status) return undefined;
    return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) as unknown as InboundEnrichment;
  }

  /**
   * Retention: empties the body, headers and enrichment document of at most `limit` events received before `cutoff` and stamps
   * `purged_at`; the row stays (status, ids, dedup key, canonical output, deliveries). Events still waiting for
   * normalisation keep their payload. SKIP LOCKED: a row a worker holds is left for the next pass, never waited on.
   */
  async purgePayloads(cutoff: Date, limit: number): Promise<number> {
    const [, affected]: [unknown, number] = await this.dataSource.query(
      `UPDATE inbound_event SET body = ''::bytea, headers = '{}'::jsonb, enrichment = NULL, purged_at = now()
       WHERE id IN (SELECT id FROM inbound_event
                    WHERE purged_at IS NULL AND received_at < $1 AND status <> 'received'
                    ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [cutoff, limit],
    );
    return affected;
  }
}

/** One group of normalisation failures (issue 9). */
export interface FailedEventKey {
  connector: string;
  eventType: string;
  /** The failure reason, normalised (REASON_SQL). */
  reason: string;
}

export interface FailedEventGroup extends FailedEventKey {
  count: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  sampleIds: string[];
}

/**
 * The reason a failed event is grouped by: its error with what differs between events of the same bug blanked —
 * an override's version in the mapping name, quoted values with a digit in them (`Unable to cast value to a number:
 * "1.2M"`), hub ids, UUIDs, ISO times, emails, output and array indexes, and numbers of 4 digits or more (vendor
 * ids, byte counts).
 */
const REASON_SQL = String.raw`left(
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
  regexp_replace(
    coalesce(i.error, 'unknown error'),
    '@[0-9]+\M', '', 'g'),
    '"[^"]*[0-9][^"]*"', '"…"', 'g'),
    '\m(in|evt|msg|src|dst|rej|t)_[0-9A-Za-z]+', '<id>', 'g'),
    '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
    '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+(Z|[+-][0-9:]+)?', '<time>', 'g'),
    '[^\s"'']+@[^\s"'']+\.[A-Za-z]+', '<email>', 'g'),
    '(#|\[)[0-9]+', '\1n', 'g'),
    '\m[0-9]{4,}\M', 'N', 'g'),
  300)`;

/** Failed, unpurged events with connector, type, normalised reason; $1/$2 narrow by connector and type. */
const FAILED_SQL = `
  SELECT i.id, s.connector, i.vendor_event_type AS event_type, ${REASON_SQL} AS reason,
         coalesce(i.last_attempt_at, i.received_at) AS seen_at
  FROM inbound_event i JOIN source s ON s.id = i.source_id
  WHERE i.status = 'failed' AND i.purged_at IS NULL
    AND ($1::text IS NULL OR s.connector = $1) AND ($2::text IS NULL OR i.vendor_event_type = $2)`;
