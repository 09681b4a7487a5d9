import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One delivery refused at /hooks/:sourceId for a known source (401, 400, 415). Never the body, a header value or a
 * signature: only what ops need to group and chase it. Bounded per source and by HUB_RETENTION_DAYS.
 */
@Entity('verification_rejection')
export class VerificationRejectionEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text', { name: 'source_id' })
  sourceId!: string;

  /** The HTTP status the vendor was answered. */
  @Column('int')
  status!: number;

  /** `bad_signature`, `stale_timestamp`, `malformed_json`, `unsupported_media_type`, … */
  @Column('text')
  reason!: string;

  /** The message the vendor was answered, capped. */
  @Column('text')
  message!: string;

  @Column('text', { name: 'correlation_id', nullable: true })
  correlationId!: string | null;

  @Column('timestamptz')
  at!: Date;
}
