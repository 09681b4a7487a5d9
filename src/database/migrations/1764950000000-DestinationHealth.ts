import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9, destination health. `disabled_at` says since when a destination receives nothing (auto-disable, 410,
 * an operator); re-enabling moves that window to `missed_since`/`missed_until`, which replay-missed reads.
 *
 * `delivery_health` serves every health figure per destination with index look-ups: the 24 h counts are ranges on
 * (destination, status, updated_at), the backlog a range on (destination, status), the last success or failure
 * one backward step. `canonical_event_created` finds the events created while a destination was disabled.
 */
export class DestinationHealth1764950000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE destination ADD COLUMN disabled_at timestamptz`);
    await q.query(`ALTER TABLE destination ADD COLUMN missed_since timestamptz`);
    await q.query(`ALTER TABLE destination ADD COLUMN missed_until timestamptz`);
    // Destinations disabled before this: their last change is the best "since" there is.
    await q.query(`UPDATE destination SET disabled_at = updated_at WHERE status = 'disabled'`);
    await q.query(`CREATE INDEX delivery_health ON delivery (destination_id, status, updated_at)`);
    await q.query(`CREATE INDEX canonical_event_created ON canonical_event (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX canonical_event_created`);
    await q.query(`DROP INDEX delivery_health`);
    await q.query(`ALTER TABLE destination DROP COLUMN missed_until`);
    await q.query(`ALTER TABLE destination DROP COLUMN missed_since`);
    await q.query(`ALTER TABLE destination DROP COLUMN disabled_at`);
  }
}
