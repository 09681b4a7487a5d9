import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 8: CRM destinations. A destination has either a `url` (webhook) or a `config` (CRM base URL, field names)
 * whose secrets are sealed apart. `crm_ledger` maps (destination, canonical subject, CRM object type) to the CRM's
 * record id, with the last applied state version and payload hash: replays never create a second record, an older
 * state never overwrites a newer one, and an unchanged payload is not sent again.
 */
export class CrmDestinations1764662400000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE destination ALTER COLUMN url DROP NOT NULL`);
    await q.query(`ALTER TABLE destination ADD COLUMN config jsonb`);
    await q.query(`ALTER TABLE destination ADD COLUMN config_secrets_sealed text`);
    await q.query(`
      CREATE TABLE crm_ledger (
        destination_id text NOT NULL REFERENCES destination(id) ON DELETE CASCADE,
        subject text NOT NULL,
        object_type text NOT NULL,
        crm_id text,
        state_version timestamptz,
        payload_hash text,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (destination_id, subject, object_type)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE crm_ledger`);
    await q.query(`ALTER TABLE destination DROP COLUMN config_secrets_sealed`);
    await q.query(`ALTER TABLE destination DROP COLUMN config`);
  }
}
