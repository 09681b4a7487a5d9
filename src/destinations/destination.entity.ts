import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export const DESTINATION_TYPES = ['webhook', 'hubspot', 'salesforce', 'pipedrive'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];
export type DestinationStatus = 'active' | 'disabled';

@Entity('destination')
export class DestinationEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  type!: DestinationType;

  /** Webhook destinations: where the CloudEvent is POSTed. CRM destinations keep their base URL in `config`. */
  @Column('text', { nullable: true })
  url!: string | null;

  /** CRM destinations: base URL, API version, field names (DESIGN §7); no secrets (see configSecretsSealed). */
  @Column('jsonb', { nullable: true })
  config!: Record<string, unknown> | null;

  /** Sealed JSON object of the config's secret keys (API tokens): write-only. */
  @Column('text', { name: 'config_secrets_sealed', nullable: true })
  configSecretsSealed!: string | null;

  @Column('jsonb', { name: 'event_types' })
  eventTypes!: string[];

  /** Sealed JSON array of `whsec_` secrets, newest first; older ones sign too during a rotation grace period. */
  @Column('text', { name: 'secrets_sealed' })
  secretsSealed!: string;

  /** Sealed JSON object of custom headers (they often carry credentials). */
  @Column('text', { name: 'headers_sealed' })
  headersSealed!: string;

  /** Optional JSONata filter evaluated against the CloudEvent; falsy result skips the destination. */
  @Column('text', { nullable: true })
  filter!: string | null;

  @Column('boolean', { name: 'include_test', default: false })
  includeTest!: boolean;

  /** Seconds; overrides HUB_RETRY_SCHEDULE for this destination. */
  @Column('jsonb', { name: 'retry_schedule', nullable: true })
  retrySchedule!: number[] | null;

  @Column('text', { default: 'active' })
  status!: DestinationStatus;

  /** Why it receives nothing, for humans: a 410, the failure window (with since when), an operator, deletion. */
  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason!: string | null;

  /** Since when it receives nothing; canonical events from then on are what it missed. */
  @Column('timestamptz', { name: 'disabled_at', nullable: true })
  disabledAt!: Date | null;

  /** The last disabled spell, kept when it is re-enabled: what replay-missed sends (destination-health.service). */
  @Column('timestamptz', { name: 'missed_since', nullable: true })
  missedSince!: Date | null;

  /** When it was last re-enabled: the end of that spell, and where its failure window starts again. */
  @Column('timestamptz', { name: 'missed_until', nullable: true })
  missedUntil!: Date | null;

  /** Set when the destination was deleted: it is disabled, kept with its history, and hidden from lists. */
  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
