import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One version of an inbound mapping's expression, stored by ops; rows are never updated or deleted. */
@Entity('mapping_override')
export class MappingOverrideEntity {
  @PrimaryColumn('text')
  connector!: string;

  @PrimaryColumn('text', { name: 'event_type' })
  eventType!: string;

  /** 1, 2, … per (connector, event type). */
  @PrimaryColumn('int')
  version!: number;

  @Column('text')
  expression!: string;

  @Column('text', { nullable: true })
  comment!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
