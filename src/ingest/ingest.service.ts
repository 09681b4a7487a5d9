import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { randomId } from '../common/ids';
import { ROOT_LOGGER } from '../common/logger';
import { sourceFingerprint } from '../common/source-fingerprint';
import { firstOutputInserts, firstOutputRows, PreparedOutput } from '../canonical/canonical-event.service';
import { isTransientError } from '../common/transient-error';
import { Coalescer, firstCallGets } from '../database/coalescer';
import { HotPool, hotStatement } from '../database/prepared';
import { ConnectorRegistry, EnvelopeError } from '../connectors/connector.registry';
import { Envelope } from '../connectors/connector';
import { tokenHeader } from '../connectors/verifiers/header-token.verifier';
import { VerificationError } from '../connectors/verifiers/verifier';
import { MetricsService } from '../metrics/metrics.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { LoadedSource } from '../sources/source.service';
import { IngestErrorCode, IngestException } from './ingest.exception';
import type { NormalizeStart } from './inbound-event.service';
import { VerificationRejectionService } from './verification-rejection.service';

export interface IngestRequest {
  rawBody: Buffer | undefined;
  headers: IncomingHttpHeaders;
  remoteAddress: string;
  /** Recorded with a rejection, so ops can find the request in the logs. */
  correlationId?: string;
}

export interface IngestResult {
  id: string;
  duplicate: boolean;
}

/**
 * IngestService: a batch of new inbound events, each with the first output its normalisation prepared before it was
 * stored, if any (issue 11: one statement and one commit for the event and its canonical events and deliveries).
 * A duplicate's output is dropped with it.
 */
export const INBOUND_INSERT = hotStatement(
  'inbound_insert',
  `WITH inserted AS (
     INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, vendor_event_id, occurred_at, test,
                                headers, body, enrichment_status, normalize_attempts, last_attempt_at, received_at,
                                status, normalized_at)
     SELECT id, source_id, dedup_key, vendor_event_type, vendor_event_id, occurred_at, test, headers, body,
            enrichment_status, tries, CASE WHEN tries > 0 THEN now() END, coalesce(received_at, now()),
            CASE WHEN mapped THEN 'normalized' ELSE 'received' END, CASE WHEN mapped THEN now() END
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::boolean[],
                 $8::jsonb[], $9::bytea[], $10::text[], $11::int[], $12::timestamptz[], $13::boolean[])
          AS row(id, source_id, dedup_key, vendor_event_type, vendor_event_id, occurred_at, test, headers, body,
                 enrichment_status, tries, received_at, mapped)
     ON CONFLICT (source_id, dedup_key) DO NOTHING
     RETURNING id, received_at AS "receivedAt", occurred_at AS "occurredAt"
   ), ${firstOutputInserts('$14', '$15', 'inserted')}
   SELECT id, "receivedAt", "occurredAt" FROM inserted`,
);

/**
 * A body over this size is stored in batches of its own (IngestService.insert). Near 1 MiB, one insert takes tens of
 * milliseconds of Postgres time, and a burst of them queued ahead of a small event would hold its ack that long each.
 */
export const LARGE_BODY_BYTES = 64 * 1024;

/** Credentials never reach storage: these headers (and a header-token source's token header) are dropped. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];

@Injectable()
export class IngestService {
  /** Inserts of bodies up to LARGE_BODY_BYTES, and of larger ones: each kind has its own batches and slots. */
  private readonly inserts = this.insertLane();
  private readonly largeInserts = this.insertLane();

  constructor(
    private readonly dataSource: DataSource,
    private readonly hot: HotPool,
    private readonly connectors: ConnectorRegistry,
    private readonly queue: PipelineQueue,
    private readonly metrics: MetricsService,
    private readonly rejections: VerificationRejectionService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * DESIGN §1: verify the raw bytes, parse, read the envelope, COMMIT, then enqueue. The order of checks is
   * DESIGN §7's (404 and 413 happen earlier, in the source middleware and the body parser).
   */
  async receive(source: LoadedSource, request: IngestRequest): Promise<IngestResult> {
    const connector = this.connectors.get(source.entity.connector);
    /** `reason` is the verifier's finer code (bad_signature, stale_timestamp, …) where there is one. */
    const reject = (code: IngestErrorCode, message: string, reason: string = code): never => {
      this.metrics.ingested.inc({ connector: connector.id, outcome: 'rejected', reason: code });
      this.logger.info(
        { source: sourceFingerprint(source.entity.id), connector: connector.id, reason: code },
        `rejected: ${message}`,
      );
      const rejection = new IngestException(code, message);
      // Issue 9: counted per source for GET /api/issues. Not awaited, never throws: the answer stays the same.
      void this.rejections.record({
        sourceId: source.entity.id,
        status: rejection.status,
        reason,
        message,
        correlationId: request.correlationId,
      });
      throw rejection;
    };

    if (!isJsonContentType(request.headers['content-type'])) {
      reject(IngestErrorCode.UnsupportedMediaType, 'Content-Type must be application/json');
    }
    const rawBody = request.rawBody ?? Buffer.alloc(0);
    const settings = this.connectors.settingsFor(connector, source.entity.verification);
    try {
      this.connectors.verifierFor(connector, source.entity.verification).verify({
        rawBody,
        headers: request.headers,
        remoteAddress: request.remoteAddress,
        secrets: source.secrets,
        settings,
      });
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      reject(IngestErrorCode.VerificationFailed, err.message, err.reason);
    }

    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      reject(IngestErrorCode.MalformedJson, 'Body is not valid JSON');
    }
    let envelope!: Envelope;
    try {
      envelope = this.connectors.envelope(connector, body, rawBody);
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      reject(IngestErrorCode.MissingEnvelope, err.message);
    }

    const headers = storableHeaders(
      request.headers,
      this.connectors.schemeFor(connector, source.entity.verification) === 'header-token'
        ? tokenHeader(settings)
        : undefined,
    );
    // Issue 12: only a source with an API credential, and only for events the connector declares a fetch for.
    const enrich =
      source.entity.enrichmentKeySealed !== null &&
      this.connectors.enrichmentFor(connector, envelope.eventType) !== undefined;
    const result = await this.accept(source.entity.id, connector.id, envelope, headers, rawBody, enrich);
    this.metrics.ingested.inc({
      connector: connector.id,
      outcome: result.duplicate ? 'duplicate' : 'accepted',
      reason: '',
    });
    return result;
  }

  /**
   * `POST /api/sources/:id/test`: a connector sample through the whole pipeline as a test event. It skips
   * verification (the caller holds the API key) and never collides with a real delivery's dedup key.
   */
  async injectTest(sourceId: string, connectorId: string, sampleFile: string): Promise<IngestResult> {
    const connector = this.connectors.get(connectorId);
    const rawBody = this.connectors.sample(connector, sampleFile);
    const envelope = this.connectors.envelope(connector, JSON.parse(rawBody.toString('utf8')), rawBody);
    return this.accept(
      sourceId,
      connector.id,
      { ...envelope, test: true, dedupKey: `test:${randomId('t')}` },
      { 'x-switchboard-test': sampleFile },
      rawBody,
    );
  }

  /**
   * Store (committed before any 2xx), then normalise, or enqueue enrich first when the event is to be enriched (the
   * fetch runs after the ack, never before it); a duplicate starts nothing. Issue 11: when this process runs workers
   * and has room (NormalizeJob.claimInline), the event is stored with its first normalisation try already counted
   * and is normalised here, with no trip through Redis and no normalise-start statement. When a mapping thread is
   * free, its output is even made first and stored with it, in the same statement (LocalNormalize.prepare). Without
   * room, a HUB_ROLE=all process leaves it in Postgres and pulls it with its backlog (NormalizeJob.noteBacklog); an
   * api-only process hands it to the normalize queue.
   */
  private async accept(
    sourceId: string,
    connector: string,
    envelope: Envelope,
    headers: Record<string, string>,
    rawBody: Buffer,
    enrich = false,
  ): Promise<IngestResult> {
    const local = enrich ? undefined : this.queue.claimNormalize(rawBody.length);
    const event: NormalizeStart = {
      id: randomId('in'),
      sourceId,
      vendorEventType: envelope.eventType,
      vendorEventId: envelope.eventId ?? null,
      receivedAt: new Date(),
      occurredAt: envelope.occurredAt ?? null,
      test: envelope.test,
      body: rawBody,
      normalizeAttempts: 1,
      enrichmentStatus: null,
      enrichment: null,
      enrichmentError: null,
      connector,
      latest: null,
    };
    const output = await local?.prepare(event);
    let stored: Stored;
    try {
      stored = await this.store({
        id: event.id,
        sourceId,
        envelope,
        headers,
        rawBody,
        enrich,
        normalizing: local !== undefined,
        output: output && { ...output, receivedAt: event.receivedAt },
      });
    } catch (err) {
      local?.cancel();
      throw err;
    }
    const result = { id: stored.id, duplicate: stored.duplicate };
    if (stored.duplicate) local?.cancel();
    else if (enrich) await this.queue.enrich([{ id: stored.id, sourceId }]);
    else if (local && stored.withOutput) local.stored();
    else if (local) local.start({ ...event, receivedAt: stored.receivedAt!, occurredAt: stored.occurredAt ?? null });
    else if (!this.queue.pullLocally()) await this.queue.normalize([stored.id]);
    return result;
  }

  /**
   * INSERT … ON CONFLICT on (source_id, dedup_key): concurrent duplicates collapse onto one row. `normalizing`: the
   * caller normalises the event itself at once, so its first try is counted here. Inserts made together share one
   * statement and one commit (Coalescer), small bodies apart from large ones (LARGE_BODY_BYTES); each request still
   * answers only once its own row is committed. An output Postgres refuses (a value it cannot store) is dropped, and
   * the event stored alone: normalising it again records the reason.
   */
  private async store(row: NewInbound): Promise<Stored> {
    try {
      let inserted: Inserted | undefined;
      try {
        inserted = await this.insert(row);
      } catch (err) {
        if (!row.output || isTransientError(err)) throw err;
        this.logger.warn(
          { err: (err as Error).message, inboundEventId: row.id },
          'could not store the prepared output; storing the event alone',
        );
        row = { ...row, output: undefined };
        inserted = await this.insert(row);
      }
      if (inserted) {
        const { receivedAt, occurredAt } = inserted;
        return { id: row.id, duplicate: false, withOutput: row.output !== undefined, receivedAt, occurredAt };
      }
      const existing: { id: string }[] = await this.dataSource.query(
        'SELECT id FROM inbound_event WHERE source_id = $1 AND dedup_key = $2',
        [row.sourceId, row.envelope.dedupKey],
      );
      return { id: existing[0].id, duplicate: true };
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, source: sourceFingerprint(row.sourceId) },
        'could not store inbound event',
      );
      throw new IngestException(IngestErrorCode.StoreUnavailable, 'Storage is unavailable; retry later');
    }
  }

  private insert(row: NewInbound): Promise<Inserted | undefined> {
    return (row.rawBody.length > LARGE_BODY_BYTES ? this.largeInserts : this.inserts).run(row);
  }

  /** A batch carries at most 1 MiB of bodies (a larger one goes alone): bodies go as hex text in a batch. */
  private insertLane(): Coalescer<NewInbound, Inserted | undefined> {
    return new Coalescer((rows: NewInbound[]) => this.insertMany(rows), 2, 256, {
      of: (row) => row.rawBody.length,
      max: 1024 * 1024,
    });
  }

  /** One statement for a batch of new events; a row comes back for each one inserted (not a duplicate). */
  private async insertMany(rows: NewInbound[]): Promise<(Inserted | undefined)[]> {
    const inserted = await this.hot.query<Inserted>(INBOUND_INSERT, [
      rows.map((row) => row.id),
      rows.map((row) => row.sourceId),
      rows.map((row) => row.envelope.dedupKey),
      rows.map((row) => row.envelope.eventType),
      rows.map((row) => row.envelope.eventId ?? null),
      rows.map((row) => row.envelope.occurredAt ?? null),
      rows.map((row) => row.envelope.test),
      rows.map((row) => row.headers),
      rows.map((row) => row.rawBody),
      rows.map((row) => (row.enrich ? 'pending' : null)),
      rows.map((row) => (row.normalizing ? 1 : 0)),
      rows.map((row) => row.output?.receivedAt ?? null),
      rows.map((row) => row.output !== undefined),
      ...firstOutputRows(rows.flatMap(({ id, output }) => (output ? [{ ...output, inboundEventId: id }] : []))),
    ]);
    return firstCallGets(
      inserted,
      rows.map((row) => row.id),
    );
  }
}

/** One event to insert (IngestService.store). */
interface NewInbound {
  id: string;
  sourceId: string;
  envelope: Envelope;
  headers: Record<string, string>;
  rawBody: Buffer;
  enrich: boolean;
  normalizing: boolean;
  /** Its first output, made before it was stored, and the time that output was made with (the row's received_at). */
  output?: PreparedOutput & { receivedAt: Date };
}

interface Inserted {
  id: string;
  receivedAt: Date;
  occurredAt: Date | null;
}

/** A stored event, and when a new one was received and occurred; `withOutput`: stored with its first output. */
interface Stored extends IngestResult {
  withOutput?: boolean;
  receivedAt?: Date;
  occurredAt?: Date | null;
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

function storableHeaders(headers: IncomingHttpHeaders, tokenHeaderName?: string): Record<string, string> {
  const drop = new Set([...CREDENTIAL_HEADERS, ...(tokenHeaderName ? [tokenHeaderName.toLowerCase()] : [])]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || drop.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
