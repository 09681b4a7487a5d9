import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sha256Hex } from '../common/ids';
import { MappingErrorCode, MappingException } from './mapping.exception';

/** How long a process trusts its copy of the active overrides: a new version takes effect everywhere within it. */
export const OVERRIDE_TTL_MS = 1000;

/** The override in effect for one (connector, event type). */
export interface ActiveOverride {
  connector: string;
  eventType: string;
  version: number;
  expression: string;
  /** sha256 of the text: the worker threads' compiled-cache key. */
  key: string;
  changedAt: Date;
}

export interface OverrideVersion {
  version: number;
  expression: string;
  comment: string | null;
  createdAt: Date;
  active: boolean;
}

/** Per (connector, event type) that ops ever touched: the version in effect (null: the file) and when it changed. */
export interface OverrideState {
  connector: string;
  eventType: string;
  version: number | null;
  changedAt: Date;
  versions: number;
}

/**
 * Owns `mapping_override` (every version ever stored) and `mapping_active` (which one is in effect). MappingService
 * asks `active()` on every mapping; the answer comes from a copy of the whole (small) active set refreshed at most
 * every OVERRIDE_TTL_MS, so a version stored by the api process reaches every worker within a second, at one
 * query per second per process.
 */
@Injectable()
export class MappingOverrideService {
  private cache?: { at: number; overrides: Map<string, ActiveOverride> };
  private loading?: Promise<Map<string, ActiveOverride>>;
  /** Bumped by invalidate(), so a load that started before a change never caches what it read. */
  private generation = 0;

  constructor(private readonly dataSource: DataSource) {}

  async active(connector: string, eventType: string): Promise<ActiveOverride | undefined> {
    return (await this.activeSet()).get(keyOf(connector, eventType));
  }

  /** Forgets the copy: this process sees its own change at once. */
  invalidate(): void {
    this.cache = undefined;
    this.loading = undefined;
    this.generation++;
  }

  async states(): Promise<OverrideState[]> {
    return this.dataSource.query(
      `SELECT a.connector, a.event_type AS "eventType", a.version, a.changed_at AS "changedAt",
              (SELECT count(*)::int FROM mapping_override o
                WHERE o.connector = a.connector AND o.event_type = a.event_type) AS versions
       FROM mapping_active a ORDER BY a.connector, a.event_type`,
    );
  }

  async versions(connector: string, eventType: string): Promise<OverrideVersion[]> {
    return this.dataSource.query(
      `SELECT o.version, o.expression, o.comment, o.created_at AS "createdAt",
              COALESCE(a.version = o.version, false) AS active
       FROM mapping_override o
       LEFT JOIN mapping_active a ON a.connector = o.connector AND a.event_type = o.event_type
       WHERE o.connector = $1 AND o.event_type = $2 ORDER BY o.version`,
      [connector, eventType],
    );
  }

  /** Stores the next version and makes it the one in effect; returns its number. */
  async save(connector: string, eventType: string, expression: string, comment?: string): Promise<number> {
    const version = await this.dataSource.transaction(async (manager) => {
      // Serialises concurrent saves of the same mapping, so two never take the same number.
      await manager.query(`SELECT pg_advisory_xact_lock(7419002, hashtext($1 || '/' || $2))`, [connector, eventType]);
      const [{ next }]: { next: number }[] = await manager.query(
        `SELECT COALESCE(max(version), 0) + 1 AS next FROM mapping_override WHERE connector = $1 AND event_type = $2`,
        [connector, eventType],
      );
      await manager.query(
        `INSERT INTO mapping_override (connector, event_type, version, expression, comment) VALUES ($1, $2, $3, $4, $5)`,
        [connector, eventType, next, expression, comment ?? null],
      );
      await this.activate(manager.query.bind(manager), connector, eventType, next);
      return next;
    });
    this.invalidate();
    return version;
  }

  /** Puts a stored version back in effect. */
  async restore(connector: string, eventType: string, version: number): Promise<void> {
    const found: unknown[] = await this.dataSource.query(
      'SELECT 1 FROM mapping_override WHERE connector = $1 AND event_type = $2 AND version = $3',
      [connector, eventType, version],
    );
    if (!found.length) {
      throw new MappingException(
        MappingErrorCode.VersionNotFound,
        `Mapping ${connector}/${eventType} has no stored version ${version}`,
      );
    }
    await this.activate(this.dataSource.query.bind(this.dataSource), connector, eventType, version);
    this.invalidate();
  }

  /** Back to the file; every version stays stored. Returns false when no override was in effect. */
  async revert(connector: string, eventType: string): Promise<boolean> {
    const [, changed]: [unknown, number] = await this.dataSource.query(
      `UPDATE mapping_active SET version = NULL, changed_at = now()
       WHERE connector = $1 AND event_type = $2 AND version IS NOT NULL`,
      [connector, eventType],
    );
    this.invalidate();
    return changed > 0;
  }

  private async activate(
    query: (text: string, params: unknown[]) => Promise<unknown>,
    connector: string,
    eventType: string,
    version: number,
  ): Promise<void> {
    await query(
      `INSERT INTO mapping_active (connector, event_type, version, changed_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (connector, event_type) DO UPDATE SET version = EXCLUDED.version, changed_at = now()`,
      [connector, eventType, version],
    );
  }

  private async activeSet(): Promise<Map<string, ActiveOverride>> {
    if (this.cache && Date.now() - this.cache.at < OVERRIDE_TTL_MS) return this.cache.overrides;
    // One query in flight however many mappings ask at once.
    if (!this.loading) {
      const loading = this.load().finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(): Promise<Map<string, ActiveOverride>> {
    const at = Date.now();
    const generation = this.generation;
    const rows: Omit<ActiveOverride, 'key'>[] = await this.dataSource.query(
      `SELECT a.connector, a.event_type AS "eventType", a.version, o.expression, a.changed_at AS "changedAt"
       FROM mapping_active a
       JOIN mapping_override o ON o.connector = a.connector AND o.event_type = a.event_type AND o.version = a.version`,
    );
    const overrides = new Map(
      rows.map((row) => [keyOf(row.connector, row.eventType), { ...row, key: sha256Hex(row.expression) }]),
    );
    if (generation === this.generation) this.cache = { at, overrides };
    return overrides;
  }
}

function keyOf(connector: string, eventType: string): string {
  return `${connector}\u0000${eventType}`;
}
