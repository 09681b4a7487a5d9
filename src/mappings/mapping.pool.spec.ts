import { MappingErrorCode, MappingException } from './mapping.exception';
import { MAX_BATCH_TASKS, MappingPool, URGENT_IN_A_ROW } from './mapping.pool';
import type { MappingContext, MappingExpression } from './mapping.worker';

const expression = (name: string, source: string): MappingExpression => ({ key: name, name: `acme/${name}`, source });
const ok = expression('ok', '{"type": "tag.created", "subject": "tag:acme:" & id, "data": {"id": id}}');
// Catastrophic backtracking: one RegExp.exec call that never returns to jsonata's cooperative timeout check.
const backtrack = expression(
  'backtrack',
  '{"type": "tag.created", "subject": "tag:acme:1", "data": {"id": "1", "name": $string($match(s, /(a+)+$/))}}',
);
// About 100 ms of work on a 2-core machine, well inside jsonata's own 1 s limit.
const slow = expression(
  'slow',
  '{"type": "tag.created", "subject": "tag:acme:" & id, "data": {"id": id, "name": $string($sum([1..1000000]))}}',
);
const stuckBody = JSON.stringify({ s: 'a'.repeat(64) + '!' });
const context: MappingContext = {
  connector: 'acme',
  vendorEventType: 'ok',
  inboundEventId: 'in_1',
  sourceId: 'src_1',
  receivedAt: new Date('2026-01-01T00:00:00Z'),
  test: false,
};

/**
 * Runs tasks on `pool` and records, in `order`, the label of each as it settles: every call goes through the same
 * promise chain, so the order is the pool's.
 */
function recorder(pool: MappingPool) {
  const order: string[] = [];
  const run = (label: string, what: MappingExpression, body: string, urgent = false) =>
    pool.run(what, body, context, urgent).then(
      (events) => {
        order.push(label);
        return events;
      },
      (err: unknown) => {
        order.push(`${label} failed`);
        throw err;
      },
    );
  return { order, run };
}

describe(MappingPool.name, () => {
  const pools: MappingPool[] = [];
  const onePool = (hardTimeoutMs?: number) => {
    const pool = new MappingPool({ threads: 1, hardTimeoutMs });
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close()));
  });

  it('sends urgent tasks ahead of those already waiting for a thread', async () => {
    const pool = onePool();
    const { order, run } = recorder(pool);
    await run('boot', ok, '{"id": "b"}');
    const stuck = run('stuck', backtrack, stuckBody).catch((err: unknown) => err);
    const waiting = [1, 2].map((n) => run(`w${n}`, ok, `{"id": "w${n}"}`));
    const urgent = run('u', ok, '{"id": "u"}', true);
    await Promise.all([stuck, ...waiting, urgent]);
    expect(order).toEqual(['boot', 'stuck failed', 'u', 'w1', 'w2']);
  });

  it(`never starves the others: one waiting task goes after every ${URGENT_IN_A_ROW} urgent ones`, async () => {
    const pool = onePool();
    const { order, run } = recorder(pool);
    await run('boot', ok, '{"id": "b"}');
    const stuck = run('stuck', backtrack, stuckBody).catch((err: unknown) => err);
    const waiting = [1, 2].map((n) => run(`w${n}`, ok, `{"id": "w${n}"}`));
    const urgent = [1, 2, 3, 4, 5, 6].map((n) => run(`u${n}`, ok, `{"id": "u${n}"}`, true));
    await Promise.all([stuck, ...waiting, ...urgent]);
    expect(order).toEqual(['boot', 'stuck failed', 'u1', 'u2', 'u3', 'u4', 'w1', 'u5', 'u6', 'w2']);
  });

  it('hands a free thread the tasks that waited as one batch; one stopped at the hard limit fails alone', async () => {
    const pool = onePool();
    const { order, run } = recorder(pool);
    await run('boot', ok, '{"id": "b"}');
    // The first goes to the thread at once; the three behind it wait, then go together.
    const first = run('first', ok, '{"id": "f"}');
    const before = run('before', ok, '{"id": "before"}');
    const stuck = run('stuck', backtrack, stuckBody).catch((err: unknown) => err);
    const after = run('after', ok, '{"id": "after"}');

    const failure = await stuck;
    expect(failure).toBeInstanceOf(MappingException);
    expect((failure as MappingException).code).toBe(MappingErrorCode.Bounds);
    expect((failure as MappingException).message).toContain('acme/backtrack ran longer than the');
    // `before` came back as soon as it was mapped; `after` went back to the queue when the stuck task's thread was
    // stopped, and the replacement maps it.
    const [[b], [a]] = await Promise.all([before, after]);
    expect([b.subject, a.subject]).toEqual(['tag:acme:before', 'tag:acme:after']);
    await first;
    expect(order).toEqual(['boot', 'first', 'before', 'stuck failed', 'after']);
    // boot, first, then one batch of three, then `after` again on the replacement thread.
    expect(pool.handedOver()).toEqual({ batches: 4, tasks: 6 });
  });

  it('puts at most one task that is not urgent in a batch while an urgent one is about', async () => {
    const pool = onePool();
    const { order, run } = recorder(pool);
    await run('boot', ok, '{"id": "b"}');
    const first = run('first', ok, '{"id": "f"}');
    const waiting = [1, 2, 3].map((n) => run(`w${n}`, ok, `{"id": "w${n}"}`));
    const urgent = run('u', ok, '{"id": "u"}', true);
    await Promise.all([first, ...waiting, urgent]);
    expect(order).toEqual(['boot', 'first', 'u', 'w1', 'w2', 'w3']);
    // boot, first, [u, w1], then [w2, w3] once no urgent task is left: an urgent task arriving meanwhile waits for
    // one backlog mapping at most, not for four.
    expect(pool.handedOver()).toEqual({ batches: 4, tasks: 6 });
  });

  it("gives each task's outcome back as soon as it is mapped, not with the rest of its batch", async () => {
    const pool = onePool();
    const { run } = recorder(pool);
    await run('boot', ok, '{"id": "b"}');
    const settledAt = (work: Promise<unknown>) => work.then(() => Date.now());
    const first = run('first', ok, '{"id": "f"}');
    const quick = settledAt(run('quick', ok, '{"id": "q"}'));
    const slows = [1, 2, 3].map((n) => settledAt(run(`slow${n}`, slow, `{"id": "s${n}"}`)));
    await first;
    const [quickAt, ...slowAt] = await Promise.all([quick, ...slows]);
    expect(pool.handedOver()).toEqual({ batches: 3, tasks: 6 });
    // The quick one ran first in the batch and came back while the three slow ones still ran (about 100 ms each):
    // with the batch, all four would come back in the same tick.
    expect(slowAt[2] - quickAt).toBeGreaterThanOrEqual(20);
  });

  it("counts the hard limit from each task's start, not from its batch's", async () => {
    const timing = onePool();
    await timing.run(ok, '{"id": "b"}', context);
    let longest = 0;
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      await timing.run(slow, '{"id": "t"}', context);
      longest = Math.max(longest, Date.now() - started);
    }
    // A limit well above one task's time, well below a whole batch's.
    const limitMs = Math.max(100, Math.round(2.5 * longest));
    const pool = onePool(limitMs);
    await pool.run(ok, '{"id": "b"}', context);
    const first = pool.run(ok, '{"id": "f"}', context);
    const batchStarted = Date.now();
    const batch = await Promise.all(
      Array.from({ length: MAX_BATCH_TASKS }, (_, i) => pool.run(slow, `{"id": "s${i}"}`, context)),
    );
    await first;
    expect(batch.map(([event]) => event.subject)).toEqual(
      Array.from({ length: MAX_BATCH_TASKS }, (_, i) => `tag:acme:s${i}`),
    );
    expect(pool.handedOver()).toEqual({ batches: 3, tasks: 2 + MAX_BATCH_TASKS });
    // Guards the test itself: the batch took longer than the limit, so a limit per batch would have stopped it.
    expect(Date.now() - batchStarted).toBeGreaterThan(limitMs);
  });
});
