import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * A hot-path statement (issue 11): one per event and step, run as a named prepared statement. `name` must be unique
 * to its text. Each one is exported where it lives, so `test/hot-statements.e2e-spec.ts` can check its plan.
 *
 * Rows are found by primary key, whatever the statistics say (the one exception, INBOUND_PULL_WAITING, reads the
 * oldest waiting events through the index of waiting rows, by design). Two rules keep it so:
 * - The hub's pool plans every execution afresh (`plan_cache_mode`, see hubPoolOptions). A generic plan is made
 *   once per connection, often while the tables are still nearly empty: it then scans the whole table on every
 *   call, for good, and a fresh install or a backlog is exactly when that hurts.
 * - A state test next to an id lookup is written `(status = 'x') IS TRUE`. Postgres cannot answer that from a
 *   partial index of the rows in that state (`inbound_event_pending`, `delivery_due`), which, with statistics taken
 *   while nothing was waiting, it picks over the primary key, reading the whole backlog per call.
 */
export interface HotStatement {
  name: string;
  text: string;
}

export function hotStatement(name: string, text: string): HotStatement {
  return { name, text };
}

/**
 * Runs a hot statement on TypeORM's own pg pool, skipping TypeORM's query runner. Returns pg's rows: an UPDATE …
 * RETURNING gives its rows, not TypeORM's [rows, count]. Errors are pg's, with the same SQLSTATE codes
 * isTransientError reads.
 */
export async function preparedQuery<T extends QueryResultRow>(
  dataSource: DataSource,
  statement: HotStatement,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  return (await pool.query<T>({ name: statement.name, text: statement.text, values })).rows;
}

/**
 * The startup options of every connection in the hub's pool: the URL's own `options`, then a fresh plan for each
 * execution of a prepared statement. It changes only named statements (the hot ones above): TypeORM's are unnamed,
 * and Postgres plans those with their values every time anyway.
 */
export function hubPoolOptions(databaseUrl: string): string {
  const own = new URL(databaseUrl).searchParams.get('options');
  return [own, '-c plan_cache_mode=force_custom_plan'].filter(Boolean).join(' ');
}
