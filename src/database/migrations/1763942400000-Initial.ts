import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1763942400000 implements MigrationInterface {
  name = 'Initial1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source (
        id text PRIMARY KEY,
        name text NOT NULL,
        connector text NOT NULL,
        secrets_sealed text NOT NULL,
        verification jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE destination (
        id text PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        url text NOT NULL,
        event_types jsonb NOT NULL,
        secrets_sealed text NOT NULL,
        headers_sealed text NOT NULL,
        filter text,
        include_test boolean NOT NULL DEFAULT false,
        retry_schedule jsonb,
        status text NOT NULL DEFAULT 'active',
        disabled_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE inbound_event (
        id text PRIMARY KEY,
        source_id text NOT NULL REFERENCES source(id) ON DELETE CASCADE,
        dedup_key text NOT NULL,
        vendor_event_type text NOT NULL,
        vendor_event_id text,
        occurred_at timestamptz,
        received_at timestamptz NOT NULL DEFAULT now(),
        test boolean NOT NULL DEFAULT false,
        headers jsonb NOT NULL,
        body bytea NOT NULL,
        status text NOT NULL DEFAULT 'received',
        error text,
        normalized_at timestamptz,
        CONSTRAINT inbound_event_dedup UNIQUE (source_id, dedup_key)
      )`);
    await q.query(`CREATE INDEX inbound_event_pending ON inbound_event (received_at) WHERE status = 'received'`);
    await q.query(`
      CREATE TABLE canonical_event (
        id text PRIMARY KEY,
        inbound_event_id text NOT NULL REFERENCES inbound_event(id) ON DELETE CASCADE,
        index int NOT NULL,
        type text NOT NULL,
        subject text NOT NULL,
        time timestamptz NOT NULL,
        test boolean NOT NULL,
        event json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX canonical_event_inbound ON canonical_event (inbound_event_id)`);
    await q.query(`CREATE INDEX canonical_event_subject ON canonical_event (subject, time)`);
    await q.query(`
      CREATE TABLE delivery (
        id text PRIMARY KEY,
        destination_id text NOT NULL REFERENCES destination(id) ON DELETE CASCADE,
        canonical_event_id text NOT NULL REFERENCES canonical_event(id) ON DELETE CASCADE,
        status text NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        locked_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT delivery_once UNIQUE (destination_id, canonical_event_id)
      )`);
    await q.query(
      `CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status IN ('pending', 'retrying', 'sending')`,
    );
    await q.query(`
      CREATE TABLE delivery_attempt (
        id bigserial PRIMARY KEY,
        delivery_id text NOT NULL REFERENCES delivery(id) ON DELETE CASCADE,
        attempt_no int NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms int NOT NULL,
        status_code int,
        response_body text,
        error text,
        outcome text NOT NULL,
        next_attempt_at timestamptz
      )`);
    await q.query(`CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id, attempt_no)`);
    await q.query(`CREATE TABLE hub_setting (key text PRIMARY KEY, value text NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'delivery_attempt',
      'delivery',
      'canonical_event',
      'inbound_event',
      'destination',
      'source',
      'hub_setting',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
