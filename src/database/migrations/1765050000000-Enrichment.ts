import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 12: enrichment. A source may carry an API credential (sealed like its signing secrets) and an API base URL
 * for fetching what a vendor's event only points to (a transcript, a recording).
 *
 * The inbound event records the step: `enrichment_status` is NULL for events that are not enriched (their source
 * has no credential, or the connector declares no fetch for the type), else `pending` → `enriched` | `failed`.
 * `enrichment` is the fetched document (bounded; `enrichment_truncated` and `enrichment_bytes` record a cut),
 * `enrichment_error_code` + `enrichment_error` say why it failed. `enrichment_next_at` is when the next try is due
 * (a retry's Retry-After, or the lease of a try in flight): the reconciler re-enqueues pending events past it.
 *
 * Two partial indexes: failed enrichments by source and time (the issues view groups them), and pending ones by
 * due time (the reconciler's work list). Both stay tiny: only rows in those states are in them.
 */
export class Enrichment1765050000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE source ADD COLUMN enrichment_key_sealed text, ADD COLUMN enrichment_base_url text`);
    await q.query(`
      ALTER TABLE inbound_event
        ADD COLUMN enrichment_status text
          CHECK (enrichment_status IN ('pending', 'enriched', 'failed')),
        ADD COLUMN enrichment jsonb,
        ADD COLUMN enrichment_truncated boolean,
        ADD COLUMN enrichment_bytes int,
        ADD COLUMN enrichment_error_code text,
        ADD COLUMN enrichment_error text,
        ADD COLUMN enrichment_attempts int NOT NULL DEFAULT 0,
        ADD COLUMN enrichment_next_at timestamptz,
        ADD COLUMN enrichment_updated_at timestamptz`);
    await q.query(`
      CREATE INDEX inbound_event_enrichment_failed ON inbound_event (source_id, enrichment_error_code, enrichment_updated_at)
      WHERE enrichment_status = 'failed'`);
    await q.query(`
      CREATE INDEX inbound_event_enrichment_pending ON inbound_event (enrichment_next_at)
      WHERE enrichment_status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX inbound_event_enrichment_pending`);
    await q.query(`DROP INDEX inbound_event_enrichment_failed`);
    await q.query(`
      ALTER TABLE inbound_event
        DROP COLUMN enrichment_status, DROP COLUMN enrichment, DROP COLUMN enrichment_truncated,
        DROP COLUMN enrichment_bytes, DROP COLUMN enrichment_error_code, DROP COLUMN enrichment_error,
        DROP COLUMN enrichment_attempts, DROP COLUMN enrichment_next_at, DROP COLUMN enrichment_updated_at`);
    await q.query(`ALTER TABLE source DROP COLUMN enrichment_key_sealed, DROP COLUMN enrichment_base_url`);
  }
}
