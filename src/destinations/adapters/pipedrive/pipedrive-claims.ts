import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

/** This process, so a pending claim can tell its own finished attempts from another worker's live one. */
const INSTANCE = randomBytes(6).toString('hex');
const PREFIX = 'pending:';

export interface PendingClaim {
  token: string;
  since: Date;
  /** Claimed by this process (whose attempts on one subject are serialised, so that attempt is over). */
  mine: boolean;
}

/**
 * Pipedrive has no upsert and no idempotency key, so "create" is guarded by a pending row in the CRM ledger, written
 * before the create: `crm_id` NULL and `payload_hash` `pending:<time>@<process>`. A row like that means a create
 * was sent and its answer never came (or is still coming): the next attempt looks the record up by its markers
 * before creating it again. The shared CrmLedgerService has no insert-if-absent, hence these few statements.
 */
export class PipedriveClaims {
  constructor(private readonly dataSource: DataSource) {}

  static parse(payloadHash: string | null | undefined): PendingClaim | undefined {
    if (!payloadHash?.startsWith(PREFIX)) return undefined;
    const [at, instance] = payloadHash.slice(PREFIX.length).split('@');
    const since = new Date(at);
    if (Number.isNaN(since.getTime())) return undefined;
    return { token: payloadHash, since, mine: instance === INSTANCE };
  }

  /** Writes the pending row if there is none; false when one exists (a record or another claim). */
  async claim(destinationId: string, subject: string, objectType: string): Promise<string | undefined> {
    const token = `${PREFIX}${new Date().toISOString()}@${INSTANCE}`;
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO crm_ledger (destination_id, subject, object_type, crm_id, payload_hash)
       VALUES ($1, $2, $3, NULL, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [destinationId, subject, objectType, token],
    );
    return rows.length ? token : undefined;
  }

  /** Takes over a claim whose attempt is over (compare-and-swap, so two workers cannot both take it). */
  async reclaim(
    destinationId: string,
    subject: string,
    objectType: string,
    previous: string | null,
  ): Promise<string | undefined> {
    const token = `${PREFIX}${new Date().toISOString()}@${INSTANCE}`;
    const rows: unknown[] = await this.dataSource.query(
      `UPDATE crm_ledger SET payload_hash = $5, updated_at = now()
       WHERE destination_id = $1 AND subject = $2 AND object_type = $3 AND crm_id IS NULL AND payload_hash IS NOT DISTINCT FROM $4
       RETURNING 1`,
      [destinationId, subject, objectType, previous, token],
    );
    return rows.length ? token : undefined;
  }

  /** The record was deleted in Pipedrive (404 on update): forget its id and claim a new create, in one step. */
  async forget(destinationId: string, subject: string, objectType: string, crmId: string): Promise<string | undefined> {
    const token = `${PREFIX}${new Date().toISOString()}@${INSTANCE}`;
    const rows: unknown[] = await this.dataSource.query(
      `UPDATE crm_ledger SET crm_id = NULL, payload_hash = $5, updated_at = now()
       WHERE destination_id = $1 AND subject = $2 AND object_type = $3 AND crm_id = $4
       RETURNING 1`,
      [destinationId, subject, objectType, crmId, token],
    );
    return rows.length ? token : undefined;
  }

  /** The create certainly did not apply (a 4xx, a 429): drop the claim so the next attempt need not look. */
  async release(destinationId: string, subject: string, objectType: string, token: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM crm_ledger
       WHERE destination_id = $1 AND subject = $2 AND object_type = $3 AND crm_id IS NULL AND payload_hash = $4`,
      [destinationId, subject, objectType, token],
    );
  }
}
