import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 9: mappings ops can change without a release. `mapping_override` keeps every version of an inbound
 * mapping's expression (never updated, never deleted); `mapping_active` says which version is in effect for a
 * (connector, vendor event type), or none (NULL: the file). `canonical_event.mapping_version` records which mapping
 * produced each event (`file:<sha256 prefix>` or `override:<n>`); NULL for events stored before this migration.
 */
export class MappingOverrides1764835200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mapping_override (
        connector text NOT NULL,
        event_type text NOT NULL,
        version int NOT NULL,
        expression text NOT NULL,
        comment text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connector, event_type, version)
      )`);
    await q.query(`
      CREATE TABLE mapping_active (
        connector text NOT NULL,
        event_type text NOT NULL,
        version int,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connector, event_type),
        FOREIGN KEY (connector, event_type, version) REFERENCES mapping_override (connector, event_type, version)
      )`);
    await q.query(`ALTER TABLE canonical_event ADD COLUMN mapping_version text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE canonical_event DROP COLUMN mapping_version`);
    await q.query(`DROP TABLE mapping_active`);
    await q.query(`DROP TABLE mapping_override`);
  }
}
