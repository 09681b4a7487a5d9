import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Issue 11: a hot-path statement (one per event and step) as a named prepared statement, on TypeORM's own pg pool.
 * Each pooled connection parses and plans it once, not once per event, and the call skips TypeORM's query runner.
 * `name` must be unique to its text. Returns pg's rows: an UPDATE … RETURNING gives its rows, not TypeORM's
 * [rows, count]. Errors are pg's, with the same SQLSTATE codes isTransientError reads.
 */
export async function preparedQuery<T extends QueryResultRow>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  return (await pool.query<T>({ name, text, values })).rows;
}
