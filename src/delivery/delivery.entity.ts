import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * pending → sending → succeeded | retrying (→ sending …) | failed | exhausted | superseded | unchanged.
 * `sending` is a lease (locked_until) so a job re-enqueued after a Redis flush cannot send twice.
 */
export type DeliveryStatus =
  'pending' | 'sending' | 'retrying' | 'succeeded' | 'failed' | 'exhausted' | 'superseded' | 'unchanged' | 'skipped';

@Entity('delivery')
export class DeliveryEntity {
  /** Also the outbound `webhook-id`: stable across retries. */
  @PrimaryColumn('text')
  id!: string;

  @Column('text', { name: 'destination_id' })
  destinationId!: string;

  @Column('text', { name: 'canonical_event_id' })
  canonicalEventId!: string;

  @Column('text')
  status!: DeliveryStatus;

  @Column('int', { default: 0 })
  attempts!: number;

  /** `attempts` when a manual retry or replay was asked for: the retry schedule counts from here. */
  @Column('int', { name: 'retry_base', default: 0 })
  retryBase!: number;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;

  @Column('timestamptz', { name: 'locked_until', nullable: true })
  lockedUntil!: Date | null;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
