import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { CloudEvent } from './cloud-event';

@Entity('canonical_event')
export class CanonicalEventEntity {
  /** `evt_` + hash(inbound event id, [revision when > 0,] output index): stable across retries. */
  @PrimaryColumn('text')
  id!: string;

  @Column('text', { name: 'inbound_event_id' })
  inboundEventId!: string;

  @Column('int')
  index!: number;

  /** 0 for the first normalisation; a re-normalise whose output differs writes the next revision beside it. */
  @Column('int', { default: 0 })
  revision!: number;

  @Column('text')
  type!: string;

  @Column('text')
  subject!: string;

  @Column('timestamptz')
  time!: Date;

  @Column('boolean')
  test!: boolean;

  /** The whole CloudEvent as emitted; `json`, not `jsonb`, so the attribute order goes out as it was built. */
  @Column('json')
  event!: CloudEvent;

  /** The mapping that produced it: `file:<sha256 prefix>` or `override:<n>`; null before issue 9. */
  @Column('text', { name: 'mapping_version', nullable: true })
  mappingVersion!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
