import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ConsoleSessionEntity } from '../auth/console-session.entity';
import { HubSettingEntity } from '../auth/hub-setting.entity';
import { CanonicalEventEntity } from '../canonical/canonical-event.entity';
import { DeliveryAttemptEntity } from '../delivery/delivery-attempt.entity';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { DestinationEntity } from '../destinations/destination.entity';
import { InboundEventEntity } from '../ingest/inbound-event.entity';
import { VerificationRejectionEntity } from '../ingest/verification-rejection.entity';
import { MappingOverrideEntity } from '../mappings/mapping-override.entity';
import { SourceEntity } from '../sources/source.entity';
import { Initial1763942400000 } from './migrations/1763942400000-Initial';
import { PipelineIsolation1764576000000 } from './migrations/1764576000000-PipelineIsolation';
import { CrmDestinations1764662400000 } from './migrations/1764662400000-CrmDestinations';
import { EventRevisions1764748800000 } from './migrations/1764748800000-EventRevisions';
import { ArchiveAndRetention1764800000000 } from './migrations/1764800000000-ArchiveAndRetention';
import { MappingOverrides1764835200000 } from './migrations/1764835200000-MappingOverrides';
import { IssuesAndRejections1764900000000 } from './migrations/1764900000000-IssuesAndRejections';
import { DestinationHealth1764950000000 } from './migrations/1764950000000-DestinationHealth';
import { ConsoleSessions1765000000000 } from './migrations/1765000000000-ConsoleSessions';
import { Enrichment1765050000000 } from './migrations/1765050000000-Enrichment';
import { InboundFillfactor1765100000000 } from './migrations/1765100000000-InboundFillfactor';

export const ENTITIES = [
  SourceEntity,
  DestinationEntity,
  InboundEventEntity,
  CanonicalEventEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
  HubSettingEntity,
  MappingOverrideEntity,
  ConsoleSessionEntity,
  VerificationRejectionEntity,
];

export const MIGRATIONS = [
  Initial1763942400000,
  PipelineIsolation1764576000000,
  CrmDestinations1764662400000,
  EventRevisions1764748800000,
  ArchiveAndRetention1764800000000,
  MappingOverrides1764835200000,
  IssuesAndRejections1764900000000,
  DestinationHealth1764950000000,
  ConsoleSessions1765000000000,
  Enrichment1765050000000,
  InboundFillfactor1765100000000,
];

/** Migrations only, everywhere (STYLE habit 3): synchronize is never on. */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    // 12 here and 8 in the HotPool (database/prepared.ts): the 20 connections a process had before it.
    extra: { max: 12, connectionTimeoutMillis: 5000 },
  };
}

/** Creates the database named in the URL if it is missing, connecting to the server's `postgres` database. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another process (worker beside api) may have created it a moment ago.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations under a Postgres advisory lock, so an api and a worker booting together
 * do not race each other through the same migration.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(7419001)');
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(7419001)').catch(() => undefined);
    await runner.release();
  }
}
