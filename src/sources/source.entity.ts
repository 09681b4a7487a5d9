import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A vendor's entry point: `/hooks/<id>`. The id is unguessable (url-token sources use it as their secret). */
@Entity('source')
export class SourceEntity {
  @PrimaryColumn('text')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  connector!: string;

  /** Sealed (encrypted) JSON array of secrets; several during a rotation. */
  @Column('text', { name: 'secrets_sealed' })
  secretsSealed!: string;

  /** Per-source overrides of the connector's verification settings (header name, tolerance, IP allow-list). */
  @Column('jsonb', { default: {} })
  verification!: Record<string, unknown>;

  /** Sealed API credential for enrichment (issue 12); null: the source's events are not enriched. Write-only. */
  @Column('text', { name: 'enrichment_key_sealed', nullable: true })
  enrichmentKeySealed!: string | null;

  /** The vendor API base URL for enrichment; null: the connector's documented default. */
  @Column('text', { name: 'enrichment_base_url', nullable: true })
  enrichmentBaseUrl!: string | null;

  @Column('boolean', { default: true })
  enabled!: boolean;

  /** Set when the source was deleted: it is disabled, kept with its history, and hidden from lists. */
  @Column('timestamptz', { name: 'archived_at', nullable: true })
  archivedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
