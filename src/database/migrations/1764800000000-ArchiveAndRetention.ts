import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9. Deleting a source or a destination archives it (`archived_at`): its events, deliveries and attempts stay
 * readable; only an explicit purge deletes rows (the ON DELETE CASCADE foreign keys then remove the history).
 * Retention empties raw payloads older than HUB_RETENTION_DAYS (`purged_at` says when) and deletes old attempts;
 * the two indexes let its batches find the oldest rows without scanning the tables.
 */
export class ArchiveAndRetention1764800000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE source ADD COLUMN archived_at timestamptz`);
    await q.query(`ALTER TABLE destination ADD COLUMN archived_at timestamptz`);
    await q.query(`ALTER TABLE inbound_event ADD COLUMN purged_at timestamptz`);
    await q.query(`CREATE INDEX inbound_event_unpurged ON inbound_event (received_at) WHERE purged_at IS NULL`);
    await q.query(`CREATE INDEX delivery_attempt_started ON delivery_attempt (started_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX delivery_attempt_started`);
    await q.query(`DROP INDEX inbound_event_unpurged`);
    await q.query(`ALTER TABLE inbound_event DROP COLUMN purged_at`);
    await q.query(`ALTER TABLE destination DROP COLUMN archived_at`);
    await q.query(`ALTER TABLE source DROP COLUMN archived_at`);
  }
}
