import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 7: normalisation attempts are counted in Postgres, so an event that keeps failing (or keeps crashing its
 * worker) ends `failed` with a reason after a bounded number of tries instead of being re-enqueued for ever.
 */
export class PipelineIsolation1764576000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_event ADD COLUMN normalize_attempts int NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE inbound_event ADD COLUMN last_attempt_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_event DROP COLUMN last_attempt_at`);
    await q.query(`ALTER TABLE inbound_event DROP COLUMN normalize_attempts`);
  }
}
