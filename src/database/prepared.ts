import { Inject, Injectable } from '@nestjs/common';
import { Pool, QueryResultRow } from 'pg';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';

/**
 * A hot-path statement (issue 11): one per event and step, run as a named prepared statement on the HotPool.
 * `name` must be unique to its text. Each one is exported where it lives, so `test/hot-statements.e2e-spec.ts` can
 * check its plan.
 *
 * Rows are found by primary key, whatever the statistics say (the one exception, INBOUND_PULL_WAITING, reads the
 * oldest waiting events through the index of waiting rows, by design). Two rules keep it so:
 * - The HotPool's connections never plan a sequential scan (hotPoolOptions), so the plan a connection makes once
 *   for each statement is by key even when the tables were empty or tiny at the time.
 * - A state test next to an id lookup is written `(status = 'x') IS TRUE`. Postgres cannot answer that from a
 *   partial index of the rows in that state (`inbound_event_pending`, `delivery_due`), which, with statistics taken
 *   while nothing was waiting, it would pick over the primary key, reading the whole backlog per call.
 */
export interface HotStatement {
  name: string;
  text: string;
}

export function hotStatement(name: string, text: string): HotStatement {
  return { name, text };
}

/** Connections of the HotPool. Its statements are coalesced (database/coalescer.ts), so few run at once. */
const HOT_POOL_SIZE = 8;

/**
 * The startup options of a HotPool connection: the URL's own `options`, then
 * - `plan_cache_mode=force_generic_plan`: each statement is planned once per connection, not at every execution.
 *   Planning every execution was over a third of these statements' time (pg_stat_statements during a drain: 0.73 ms
 *   of planning per event against 1.27 ms of execution).
 * - `enable_seqscan=off`: that one plan is by key even when it is made while a table is empty, tiny or never
 *   analyzed. Postgres would rightly scan a one-page table, then keep the plan as the backlog grows.
 * Only this pool has them; TypeORM's pool, which serves the API, the reconciler and retention, plans as usual.
 */
export function hotPoolOptions(databaseUrl: string): string {
  const own = new URL(databaseUrl).searchParams.get('options');
  return [own, '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off'].filter(Boolean).join(' ');
}

/**
 * Issue 11: the hot statements' own pg pool, beside TypeORM's. Its planner settings (hotPoolOptions) are for these
 * statements only, and API queries cannot take the connections the pipeline needs. Errors are pg's, with the same
 * SQLSTATE codes isTransientError reads. LifecycleService closes it with the DataSource.
 */
@Injectable()
export class HotPool {
  readonly pool: Pool;

  constructor(@Inject(HUB_CONFIG) config: HubConfig, @Inject(ROOT_LOGGER) logger: Logger) {
    // In the URL: pg lets a connection string's own `options` override a separate one.
    const url = new URL(config.databaseUrl);
    url.searchParams.set('options', hotPoolOptions(config.databaseUrl));
    this.pool = new Pool({
      connectionString: url.toString(),
      max: HOT_POOL_SIZE,
      connectionTimeoutMillis: 5000,
    });
    // An idle connection that breaks (Postgres restarted) is dropped by the pool; without a listener it would crash
    // the process. The next statement opens a new one, or fails as "Postgres is down".
    this.pool.on('error', (err) => logger.warn({ err: err.message }, 'an idle hot-statement connection failed'));
  }

  /** Returns pg's rows: an UPDATE … RETURNING gives its rows, not TypeORM's [rows, count]. */
  async query<T extends QueryResultRow>(statement: HotStatement, values: unknown[]): Promise<T[]> {
    return (await this.pool.query<T>({ name: statement.name, text: statement.text, values })).rows;
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
