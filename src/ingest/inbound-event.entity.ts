import { Column, Entity, PrimaryColumn } from 'typeorm';

export type InboundStatus = 'received' | 'normalized' | 'failed';

/** Issue 12: null when the event is not enriched; `pending` until the fetch succeeded or was given up. */
export type EnrichmentStatus = 'pending' | 'enriched' | 'failed';

/** One accepted vendor delivery, committed before the 2xx. The raw bytes are kept exactly as received. */
@Entity('inbound_event')
export class InboundEventEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text', { name: 'source_id' })
  sourceId!: string;

  @Column('text', { name: 'dedup_key' })
  dedupKey!: string;

  @Column('text', { name: 'vendor_event_type' })
  vendorEventType!: string;

  @Column('text', { name: 'vendor_event_id', nullable: true })
  vendorEventId!: string | null;

  @Column('timestamptz', { name: 'occurred_at', nullable: true })
  occurredAt!: Date | null;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('boolean', { default: false })
  test!: boolean;

  /** Request headers with credentials removed. */
  @Column('jsonb')
  headers!: Record<string, string>;

  @Column('bytea')
  body!: Buffer;

  @Column('text', { default: 'received' })
  status!: InboundStatus;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('timestamptz', { name: 'normalized_at', nullable: true })
  normalizedAt!: Date | null;

  /** Normalisation tries so far; past the limit the event ends `failed` instead of being retried for ever. */
  @Column('int', { name: 'normalize_attempts', default: 0 })
  normalizeAttempts!: number;

  @Column('timestamptz', { name: 'last_attempt_at', nullable: true })
  lastAttemptAt!: Date | null;

  @Column('text', { name: 'enrichment_status', nullable: true })
  enrichmentStatus!: EnrichmentStatus | null;

  /** The fetched vendor document, bounded (HUB_ENRICHMENT_MAX_BYTES); the mapping reads it as `$enrichment`. */
  @Column('jsonb', { nullable: true })
  enrichment!: Record<string, unknown> | null;

  @Column('boolean', { name: 'enrichment_truncated', nullable: true })
  enrichmentTruncated!: boolean | null;

  /** Size of the document as fetched, before any truncation. */
  @Column('int', { name: 'enrichment_bytes', nullable: true })
  enrichmentBytes!: number | null;

  /** Why enrichment failed, as a stable code (groupable) and as text for people. */
  @Column('text', { name: 'enrichment_error_code', nullable: true })
  enrichmentErrorCode!: string | null;

  @Column('text', { name: 'enrichment_error', nullable: true })
  enrichmentError!: string | null;

  @Column('int', { name: 'enrichment_attempts', default: 0 })
  enrichmentAttempts!: number;

  /** When the next fetch is due (a retry, or the lease of one in flight); the reconciler reads it. */
  @Column('timestamptz', { name: 'enrichment_next_at', nullable: true })
  enrichmentNextAt!: Date | null;

  @Column('timestamptz', { name: 'enrichment_updated_at', nullable: true })
  enrichmentUpdatedAt!: Date | null;

  /** Retention emptied `body` and `headers` (HUB_RETENTION_DAYS); the row stays for counts, dedup and history. */
  @Column('timestamptz', { name: 'purged_at', nullable: true })
  purgedAt!: Date | null;
}
