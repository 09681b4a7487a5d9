import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type AttemptOutcome = 'succeeded' | 'retry' | 'failed' | 'exhausted' | 'superseded' | 'unchanged';

@Entity('delivery_attempt')
export class DeliveryAttemptEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column('text', { name: 'delivery_id' })
  deliveryId!: string;

  @Column('int', { name: 'attempt_no' })
  attemptNo!: number;

  @Column('timestamptz', { name: 'started_at' })
  startedAt!: Date;

  @Column('int', { name: 'duration_ms' })
  durationMs!: number;

  @Column('int', { name: 'status_code', nullable: true })
  statusCode!: number | null;

  /** Capped at 16 KiB. */
  @Column('text', { name: 'response_body', nullable: true })
  responseBody!: string | null;

  @Column('text', { nullable: true })
  error!: string | null;

  @Column('text')
  outcome!: AttemptOutcome;

  @Column('timestamptz', { name: 'next_attempt_at', nullable: true })
  nextAttemptAt!: Date | null;
}
