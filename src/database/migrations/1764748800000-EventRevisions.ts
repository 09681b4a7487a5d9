import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9: re-normalising any event. A corrected mapping whose output differs from what is stored writes a new
 * revision of the inbound event's canonical events (new ids, so new deliveries and new webhook-ids); earlier
 * revisions stay readable. A manual retry or replay starts a fresh retry schedule: `retry_base` is the attempt count
 * when it was asked for, so an exhausted delivery retried gets the whole schedule again, and its attempt numbers
 * continue. The indexes serve the paged event and delivery logs (newest first, keyset cursors).
 */
export class EventRevisions1764748800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE canonical_event ADD COLUMN revision int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE delivery ADD COLUMN retry_base int NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX inbound_event_log ON inbound_event (received_at DESC, id DESC)`);
    await q.query(`CREATE INDEX delivery_log ON delivery (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX delivery_log`);
    await q.query(`DROP INDEX inbound_event_log`);
    await q.query(`ALTER TABLE delivery DROP COLUMN retry_base`);
    await q.query(`ALTER TABLE canonical_event DROP COLUMN revision`);
  }
}
