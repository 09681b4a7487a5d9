import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { CANONICAL_INSERT_FIRST_OUTPUTS } from '../src/canonical/canonical-event.service';
import { HotPool, HotStatement } from '../src/database/prepared';
import { DELIVERY_CLAIM, DELIVERY_RECORD } from '../src/delivery/delivery.service';
import { INBOUND_BEGIN_NORMALIZE, INBOUND_PULL_WAITING } from '../src/ingest/inbound-event.service';
import { INBOUND_INSERT } from '../src/ingest/ingest.service';
import { addSink, startHub, TestHub } from './helpers/hub';
import { whsec } from './helpers/vendors';

/** The tables a backlog grows in. A hot statement reaches their rows only through these indexes. */
const BY_KEY: Record<string, string[]> = {
  inbound_event: ['inbound_event_pkey'],
  canonical_event: ['canonical_event_pkey', 'canonical_event_inbound'],
  delivery: ['delivery_pkey'],
  delivery_attempt: ['delivery_attempt_pkey', 'delivery_attempt_delivery'],
};

/**
 * The one statement that reads the backlog on purpose: the oldest waiting events, LIMIT n. Through the index of
 * waiting rows, in order or (with statistics that see almost nothing waiting) as a bitmap: the backlog at most,
 * never the table.
 */
const READS_THE_BACKLOG: Record<string, RegExp> = {
  inbound_pull_waiting: /^(Bitmap )?Index Scan inbound_event_pending$/,
};

const BACKLOG = 3000;
/** Five rows spread through the backlog; insertRows seeds the same five before it exists. */
const ids = (prefix: string) => [97, 194, 291, 388, 485].map((n) => `${prefix}${n}`);

/** firstOutputRows' two parameters: one canonical event for each of these inbound events, with one delivery. */
function outputs(inbound: string[], destinationId: string, event: string, delivery: string): [string, string] {
  return [
    JSON.stringify(
      inbound.map((id, index) => ({
        inbound: id,
        index: 0,
        version: 'v',
        event: {
          id: `${event}${index}`,
          type: 'activity.updated',
          subject: 's',
          time: '2026-12-01T00:00:00Z',
          test: false,
        },
      })),
    ),
    JSON.stringify(
      inbound.map((id, index) => ({
        inbound: id,
        id: `${delivery}${index}`,
        destinationId,
        canonicalEventId: `${event}${index}`,
        status: 'pending',
        lease: 30,
      })),
    ),
  ];
}

/** Each hot statement with values that touch five rows of the backlog. */
function cases(sourceId: string, destinationId: string): [HotStatement, unknown[]][] {
  const inbound = ids('in_b');
  const deliveries = ids('msg_b');
  const five = <T>(value: T) => inbound.map(() => value);
  return [
    [
      INBOUND_INSERT,
      [
        ids('in_new'),
        five(sourceId),
        ids('new'),
        five('v1.engagement.updated'),
        five(null),
        five(null),
        five(false),
        five('{}'),
        five(Buffer.from('{}')),
        five(null),
        five(1),
        five('2026-12-01T00:00:00Z'),
        five(true),
        ...outputs(ids('in_new'), destinationId, 'evt_new', 'msg_new'),
      ],
    ],
    [INBOUND_BEGIN_NORMALIZE, [inbound]],
    [INBOUND_PULL_WAITING, [8, 10]],
    [CANONICAL_INSERT_FIRST_OUTPUTS, [...outputs(inbound, destinationId, 'evt_x', 'msg_x'), inbound]],
    [DELIVERY_CLAIM, [deliveries, five(30)]],
    [
      DELIVERY_RECORD,
      [deliveries, five('succeeded'), five(null), five(null), five(1), five(200), five(3), five(''), five('succeeded')],
    ],
  ];
}

/** A value as an SQL literal, in Postgres' text form (EXECUTE takes no bound parameters). */
function literal(client: PoolClient, value: unknown): string {
  const text = (v: unknown) => (Buffer.isBuffer(v) ? `\\x${v.toString('hex')}` : String(v));
  if (value === null) return 'NULL';
  if (!Array.isArray(value)) return client.escapeLiteral(text(value));
  const items = value.map((v) => (v === null ? 'NULL' : `"${text(v).replace(/[\\"]/g, (c) => `\\${c}`)}"`));
  return client.escapeLiteral(`{${items.join(',')}}`);
}

/**
 * The scans in an EXPLAIN (FORMAT JSON) plan that read a backlog table other than by key: a sequential scan, or any
 * index of that table not in BY_KEY (as "<node type> <index or table>").
 */
function offKey(plan: Record<string, unknown>): string[] {
  const type = String(plan['Node Type']);
  const index = plan['Index Name'] as string | undefined;
  const table = plan['Relation Name'] as string | undefined;
  const tableOfIndex = Object.keys(BY_KEY)
    .filter((name) => index?.startsWith(`${name}_`))
    .sort((x, y) => y.length - x.length)[0];
  const own =
    (type === 'Seq Scan' && table !== undefined && table in BY_KEY) ||
    (index !== undefined && tableOfIndex !== undefined && !BY_KEY[tableOfIndex].includes(index))
      ? [`${type} ${index ?? table}`]
      : [];
  const children = (plan['Plans'] as Record<string, unknown>[] | undefined) ?? [];
  return [...own, ...children.flatMap(offKey)];
}

/**
 * Issue 11: a vendor's backlog must not slow each event down. Every hot statement finds its rows by key, whatever
 * Postgres' statistics say when a connection plans it (once, on the HotPool): never analyzed (a fresh install),
 * analyzed while nothing was waiting (a quiet night, then a burst), or analyzed while the tables were tiny. Without
 * that, a statement planned on small tables reads the whole backlog on every call.
 */
describe('hot statements under a backlog', () => {
  let hub: TestHub;
  let client: PoolClient;
  let sourceId: string;
  let destinationId: string;

  /** Rows `g` of the backlog (from a set-returning SQL expression): inbound events, their outputs and deliveries. */
  const insertRows = async (
    sql: (text: string, params: unknown[]) => Promise<unknown>,
    rows: string,
    status: { inbound: string; delivery: string },
  ) => {
    await sql(
      `INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, headers, body, status)
       SELECT 'in_b' || g, $1, 'b' || g, 'v1.engagement.updated', '{}', '\\x7b7d', $2 FROM ${rows} g`,
      [sourceId, status.inbound],
    );
    await sql(
      `INSERT INTO canonical_event (id, inbound_event_id, index, type, subject, time, test, event)
       SELECT 'evt_b' || g, 'in_b' || g, 0, 'activity.updated', 's', now(), false, '{}' FROM ${rows} g`,
      [],
    );
    await sql(
      `INSERT INTO delivery (id, destination_id, canonical_event_id, status, next_attempt_at, attempts)
       SELECT 'msg_b' || g, $1, 'evt_b' || g, $2, now(), 1 FROM ${rows} g`,
      [destinationId, status.delivery],
    );
  };
  const backlog = (status: { inbound: string; delivery: string }, from: number) =>
    insertRows((text, params) => hub.sql(text, params), `generate_series(${from}, ${from + BACKLOG - 1})`, status);

  /** Prepares each statement on a pool connection and runs it 6 times (rolled back) before the backlog arrives. */
  const prepareBeforeTheBacklog = async () => {
    for (const [statement, values] of cases(sourceId, destinationId)) {
      for (let run = 0; run < 6; run++) {
        await client.query('BEGIN');
        // The five rows each case touches, so every statement runs to the end; rolled back with it.
        await insertRows((text, params) => client.query(text, params), `unnest('{97,194,291,388,485}'::int[])`, {
          inbound: 'received',
          delivery: 'sending',
        });
        // The hub's own way: a protocol-level named statement, which SQL's EXECUTE can name too.
        await client.query({ name: `t_${statement.name}`, text: statement.text, values });
        await client.query('ROLLBACK');
      }
    }
  };

  const expectKeyedPlans = async () => {
    const found: Record<string, string[]> = {};
    for (const [statement, values] of cases(sourceId, destinationId)) {
      const params = values.map((value) => literal(client, value)).join(', ');
      const [{ 'QUERY PLAN': plan }] = (
        await client.query(`EXPLAIN (FORMAT JSON) EXECUTE t_${statement.name}(${params})`)
      ).rows as { 'QUERY PLAN': { Plan: Record<string, unknown> }[] }[];
      found[statement.name] = offKey(plan[0].Plan);
    }
    const expected = Object.fromEntries(
      Object.entries(found).map(([name]) => [
        name,
        READS_THE_BACKLOG[name] ? [expect.stringMatching(READS_THE_BACKLOG[name])] : [],
      ]),
    );
    expect(found).toEqual(expected);
    expect(found[INBOUND_PULL_WAITING.name]).toHaveLength(1);
  };

  beforeEach(async () => {
    hub = await startHub({ HUB_ROLE: 'api' });
    const source = await hub
      .api()
      .post('/api/sources')
      .send({ name: 'AskElephant', connector: 'askelephant', secrets: [whsec()] })
      .expect(201);
    sourceId = source.body.id;
    destinationId = await addSink(hub, 'http://127.0.0.1:9/hook', ['*']);
    // The test decides when statistics are taken.
    for (const table of Object.keys(BY_KEY)) await hub.sql(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    client = await hub.app.get(HotPool).pool.connect();
  });

  afterEach(async () => {
    client?.release(true);
    await hub?.close();
  });

  it('plans once per connection and never a sequential scan on the hot pool only', async () => {
    const settings = (c: Pick<PoolClient, 'query'>) =>
      c.query(`SELECT current_setting('plan_cache_mode') AS plans, current_setting('enable_seqscan') AS seqscan`);
    expect((await settings(client)).rows).toEqual([{ plans: 'force_generic_plan', seqscan: 'off' }]);
    // TypeORM's pool (the API, the reconciler, retention) plans as Postgres would.
    const typeorm = (hub.app.get(DataSource).driver as PostgresDriver).master as Pool;
    expect((await settings(typeorm)).rows).toEqual([{ plans: 'auto', seqscan: 'on' }]);
  });

  it('counts a pulled try as a HOT update: the row version stays on its page, with no new index entries', async () => {
    await client.query('BEGIN');
    try {
      // Thirty waiting events the size of a signed AskElephant webhook's row (about 1.3 KB: ~900 bytes of body, the
      // headers as stored), inserted together so they fill their pages as far as the table's fillfactor lets them.
      await client.query(
        `INSERT INTO inbound_event (id, source_id, dedup_key, vendor_event_type, headers, body, status)
         SELECT 'in_h' || lpad(g::text, 2, '0'), $1, 'h' || g, 'v1.engagement.updated',
                jsonb_build_object('content-type', 'application/json', 'svix-id', 'msg_' || repeat('a', 24) || g,
                                   'svix-timestamp', '1733155555', 'svix-signature', 'v1,' || repeat('x', 44),
                                   'user-agent', 'Svix-Webhooks/1.24', 'content-length', '914'),
                decode(repeat(md5(g::text), 57), 'hex'), 'received'
         FROM generate_series(1, 30) g`,
        [sourceId],
      );
      const pulled = await client.query(INBOUND_PULL_WAITING.text, [8, 10]);
      expect(pulled.rowCount).toBe(8);
      const { rows } = await client.query(
        `SELECT n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_xact_user_tables
         WHERE relname = 'inbound_event'`,
      );
      expect(rows).toEqual([{ updated: 8, hot: 8 }]);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('finds rows by key in tables never analyzed', async () => {
    await prepareBeforeTheBacklog();
    await backlog({ inbound: 'received', delivery: 'sending' }, 1);
    await expectKeyedPlans();
  });

  it('finds rows by key when statistics were taken while nothing waited', async () => {
    await backlog({ inbound: 'normalized', delivery: 'succeeded' }, 10_001);
    await hub.sql(`ANALYZE inbound_event, canonical_event, delivery`);
    await prepareBeforeTheBacklog();
    await backlog({ inbound: 'received', delivery: 'pending' }, 1);
    await expectKeyedPlans();
  });

  it('finds rows by key when statistics were taken while the tables were tiny', async () => {
    await backlog({ inbound: 'normalized', delivery: 'succeeded' }, 10_001);
    // Five rows left, on one page each: a sequential scan is what Postgres would plan for them.
    for (const table of ['delivery', 'canonical_event', 'inbound_event']) {
      await hub.sql(`DELETE FROM ${table} WHERE substring(id FROM '[0-9]+$')::int > 10005`);
    }
    await hub.sql(`VACUUM ANALYZE inbound_event, canonical_event, delivery`);
    const pages = await hub.sql<{ relpages: number }>(
      `SELECT relpages FROM pg_class WHERE relname IN ('inbound_event', 'canonical_event', 'delivery')`,
    );
    expect(pages.map((row) => row.relpages)).toEqual([1, 1, 1]);
    await prepareBeforeTheBacklog();
    await backlog({ inbound: 'received', delivery: 'pending' }, 1);
    await expectKeyedPlans();
  });
});
