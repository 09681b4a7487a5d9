import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9, grouped issues. `verification_rejection` records each delivery refused at /hooks/:sourceId for a known
 * source (401, 400, 415): status, reason code, a short message and the correlation id, never the body, a header
 * value or a signature. It is bounded: newest rows per source (trimmed by ingest) and HUB_RETENTION_DAYS (retention).
 * The partial indexes keep the issues queries on what is failing now (failed inbound events, failed or exhausted
 * deliveries) instead of scanning whole tables.
 */
export class IssuesAndRejections1764900000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE verification_rejection (
        id text PRIMARY KEY,
        source_id text NOT NULL REFERENCES source(id) ON DELETE CASCADE,
        status int NOT NULL,
        reason text NOT NULL,
        message text NOT NULL,
        correlation_id text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX verification_rejection_source ON verification_rejection (source_id, at DESC)`);
    await q.query(`CREATE INDEX verification_rejection_at ON verification_rejection (at)`);
    await q.query(`CREATE INDEX inbound_event_failed ON inbound_event (received_at) WHERE status = 'failed'`);
    await q.query(
      `CREATE INDEX delivery_failing ON delivery (destination_id, updated_at) WHERE status IN ('failed', 'exhausted')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX delivery_failing`);
    await q.query(`DROP INDEX inbound_event_failed`);
    await q.query(`DROP TABLE verification_rejection`);
  }
}
