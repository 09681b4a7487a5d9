import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface LedgerEntry {
  crmId: string | null;
  stateVersion: Date | null;
  payloadHash: string | null;
}

/**
 * The CRM id ledger (issue 8): (destination, canonical subject, CRM object type) → the CRM's record id, with the
 * last applied state version and payload hash.
 * - Replaying an event, or retrying after a timeout in which the CRM did apply the write, finds the record here (or
 *   by its external id in the CRM) instead of creating a second one.
 * - No stale overwrite (DESIGN §1): per (destination, subject) the newest applied state version wins.
 * - A payload whose hash equals the last applied one is `unchanged` and not sent.
 * Participants matched by email or phone use the subjects `email:<address>` and `phone:<E.164>`.
 */
@Injectable()
export class CrmLedgerService {
  constructor(private readonly dataSource: DataSource) {}

  async get(destinationId: string, subject: string, objectType: string): Promise<LedgerEntry | undefined> {
    const rows: LedgerEntry[] = await this.dataSource.query(
      `SELECT crm_id AS "crmId", state_version AS "stateVersion", payload_hash AS "payloadHash"
       FROM crm_ledger WHERE destination_id = $1 AND subject = $2 AND object_type = $3`,
      [destinationId, subject, objectType],
    );
    return rows[0];
  }

  /** The newest state version applied for this subject at this destination, over every object type. */
  async appliedVersion(destinationId: string, subject: string): Promise<Date | undefined> {
    const rows: { version: Date | null }[] = await this.dataSource.query(
      `SELECT max(state_version) AS version FROM crm_ledger WHERE destination_id = $1 AND subject = $2`,
      [destinationId, subject],
    );
    return rows[0]?.version ?? undefined;
  }

  /** True when `version` is older than what was applied already: the event is superseded. Equal versions apply. */
  async isStale(destinationId: string, subject: string, version: Date): Promise<boolean> {
    const applied = await this.appliedVersion(destinationId, subject);
    return applied !== undefined && version.getTime() < applied.getTime();
  }

  /**
   * Records an applied write. The CRM id is kept once known; the state version only moves forward, and the payload
   * hash stays that of the newest state, so a late write of an older state (it raced a newer one) pulls neither back.
   */
  async record(
    destinationId: string,
    subject: string,
    objectType: string,
    entry: { crmId?: string | null; stateVersion?: Date | null; payloadHash?: string | null },
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO crm_ledger (destination_id, subject, object_type, crm_id, state_version, payload_hash)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (destination_id, subject, object_type) DO UPDATE SET
         crm_id = coalesce(EXCLUDED.crm_id, crm_ledger.crm_id),
         state_version = greatest(EXCLUDED.state_version, crm_ledger.state_version),
         -- The hash belongs to the newest state: a write of an older state recorded later (two states raced in
         -- one batch) must not replace it, or a replay of the newest state would look changed.
         payload_hash = CASE
           WHEN EXCLUDED.state_version IS NULL OR crm_ledger.state_version IS NULL
             OR EXCLUDED.state_version >= crm_ledger.state_version
           THEN coalesce(EXCLUDED.payload_hash, crm_ledger.payload_hash)
           ELSE crm_ledger.payload_hash END,
         updated_at = now()`,
      [destinationId, subject, objectType, entry.crmId ?? null, entry.stateVersion ?? null, entry.payloadHash ?? null],
    );
  }
}

/** A stable hash of a JSON payload (keys sorted), for the `unchanged` check. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(stableStringify(payload)).digest('hex');
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The state version "no stale overwrite" compares (DESIGN §1): `data.updatedAt` where given, else the event time. */
export function stateVersionOf(event: { time: string; data: Record<string, unknown> }): Date {
  const updatedAt = event.data?.updatedAt;
  return new Date(typeof updatedAt === 'string' ? updatedAt : event.time);
}
