import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../common/project-root';
import { MappingErrorCode, MappingException } from './mapping.exception';
import { URGENT_IN_A_ROW } from './mapping.pool';
import { MAPPING_LIMITS, MappingContext, MappingService } from './mapping.service';

/** Longest gap between ticks of a 10 ms timer on this thread: how long the event loop was held. */
function watchEventLoop(): { stop: () => number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

async function failureOf(work: Promise<unknown>): Promise<MappingException> {
  try {
    await work;
  } catch (err) {
    if (err instanceof MappingException) return err;
    throw err;
  }
  throw new Error('expected a MappingException');
}

describe(MappingService.name, () => {
  const root = mkdtempSync(join(tmpdir(), 'mappings-'));
  mkdirSync(join(root, 'acme'));
  const write = (event: string, expression: string) =>
    writeFileSync(join(root, 'acme', `${event}.jsonata`), expression);
  const context = (vendorEventType: string, inboundEventId = 'in_1'): MappingContext => ({
    connector: 'acme',
    vendorEventType,
    inboundEventId,
    sourceId: 'src_1',
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    test: false,
  });
  const sut = new MappingService(root, { threads: 2 });
  afterAll(() => sut.close());

  const failure = (vendorEventType: string, body: unknown = {}) => failureOf(sut.map(body, context(vendorEventType)));
  /** A runaway (catastrophic backtracking) submitted through `map`; `settled` says whether its failure came yet. */
  const stuckOn = (service: MappingService, map: (raw: string, ctx: MappingContext) => Promise<unknown>) => {
    let settled = false;
    const failure = failureOf(map.call(service, JSON.stringify({ s: 'a'.repeat(64) + '!' }), context('backtrack')));
    void failure.finally(() => (settled = true));
    return { failure, settled: () => settled };
  };

  write('ok', '{"type": "tag.created", "subject": "tag:acme:" & id, "data": {"id": id, "name": name}}');
  write('forever', '($loop := function($n) { $loop($n + 1) + 1 }; $loop(0))');
  write('spin', '($spin := function($n) { $n > 0 ? $spin($n) : 0 }; $spin(1))');
  write('deep', '($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))');
  write('nothing', 'missing.field');
  write('invalid', '{"type": "tag.created", "subject": "tag:acme:1", "data": {"name": null}}');
  write('broken', '{"type": ');
  // Catastrophic backtracking: one RegExp.exec call that never returns to jsonata's cooperative timeout check.
  write(
    'backtrack',
    '{"type": "tag.created", "subject": "tag:acme:1", "data": {"id": "1", "name": $string($match(s, /(a+)+$/))}}',
  );
  write('many', '[1..101].{"type": "tag.created", "subject": "tag:acme:" & $string($), "data": {"id": $string($)}}');
  write(
    'huge',
    '{"type": "tag.created", "subject": "tag:acme:1", "data": {"id": "1", "name": $pad("", 3000000, "x")}}',
  );
  write('echo', '{"type": "tag.created", "subject": "tag:acme:1", "data": {"id": "1", "name": $string(nested)}}');

  it('maps and wraps the output in a CloudEvents envelope with a stable id', async () => {
    const [first] = await sut.map({ id: 't1', name: 'churn' }, context('ok'));
    const [again] = await sut.mapRaw(Buffer.from('{"id": "t1", "name": "churn"}'), context('ok'));
    expect(first).toMatchObject({
      specversion: '1.0',
      type: 'tag.created',
      subject: 'tag:acme:t1',
      source: 'switchboard/sources/src_1',
      time: '2026-01-01T00:00:00.000Z',
      data: { id: 't1', name: 'churn' },
    });
    expect(again).toEqual(first);
  });

  it('fails a mapping that recurses forever with a clear error, without hanging', async () => {
    const err = await failure('forever');
    expect(err.code).toBe(MappingErrorCode.Bounds);
    expect(err.message).toMatch(/acme\/forever (recursed deeper than|ran longer than)/);
  });

  it('fails a mapping that loops in tail position within the time bound', async () => {
    const err = await failure('spin');
    expect(err.code).toBe(MappingErrorCode.Bounds);
  });

  it('fails deep recursion on the depth bound', async () => {
    const err = await failure('deep');
    expect(err.code).toBe(MappingErrorCode.Bounds);
  });

  it('fails a mapping that produces nothing, so no event is dropped silently', async () => {
    expect((await failure('nothing')).code).toBe(MappingErrorCode.Empty);
  });

  it('fails output that is not a valid canonical event, naming the field', async () => {
    const err = await failure('invalid');
    expect(err.code).toBe(MappingErrorCode.Invalid);
    expect(err.message).toContain('data.name: is null');
    expect(err.message).toContain('data.id');
  });

  it('reports a mapping that does not compile', async () => {
    const err = await failure('broken');
    expect(err.code).toBe(MappingErrorCode.Compile);
    expect(err.message).toContain('acme/broken does not compile');
  });

  it('reports a missing mapping and refuses path tricks in the event type', async () => {
    expect((await failure('absent')).code).toBe(MappingErrorCode.NotFound);
    expect((await failure('../etc/passwd')).code).toBe(MappingErrorCode.NotFound);
  });

  it('fails a body that is not JSON with a reason instead of a parse error', async () => {
    const err = await failureOf(sut.mapRaw('{"id": ', context('ok')));
    expect(err.code).toBe(MappingErrorCode.Input);
    expect(err.message).toContain('is not JSON');
  });

  it('stops a catastrophically backtracking mapping at the hard limit while the event loop keeps ticking', async () => {
    await sut.map({ id: 'warm', name: 'up' }, context('ok'));
    const loop = watchEventLoop();
    const started = Date.now();
    const err = await failureOf(sut.map({ s: 'a'.repeat(64) + '!' }, context('backtrack')));
    const elapsed = Date.now() - started;
    const longestGap = loop.stop();

    expect(err.code).toBe(MappingErrorCode.Bounds);
    expect(err.message).toContain(`ran longer than the ${MAPPING_LIMITS.hardTimeoutMs} ms hard limit`);
    expect(elapsed).toBeGreaterThanOrEqual(MAPPING_LIMITS.hardTimeoutMs - 50);
    expect(elapsed).toBeLessThan(MAPPING_LIMITS.hardTimeoutMs + 10_000);
    expect(longestGap).toBeLessThan(500);
    // The stopped thread was replaced: the pool still maps.
    const [event] = await sut.map({ id: 'after', name: 'recovered' }, context('ok'));
    expect(event.subject).toBe('tag:acme:after');
  });

  it('fails a body nested 100 000 deep on the depth bound, naming it', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const err = await failureOf(sut.mapRaw(deep, context('ok')));
    expect(err.code).toBe(MappingErrorCode.Bounds);
    expect(err.message).toContain(`nests deeper than ${MAPPING_LIMITS.maxInputDepth} levels`);

    const parsed = JSON.parse(deep) as unknown;
    expect((await failureOf(sut.map(parsed, context('ok')))).code).toBe(MappingErrorCode.Bounds);
  });

  it('accepts nesting up to the depth bound, brackets and escaped quotes inside strings not counted', async () => {
    const nested =
      '['.repeat(MAPPING_LIMITS.maxInputDepth - 1) + '"\\"[[[{{{"' + ']'.repeat(MAPPING_LIMITS.maxInputDepth - 1);
    const [event] = await sut.mapRaw(`{"nested": ${nested}}`, context('echo'));
    expect(event.data.name).toContain('"[[[{{{');

    const oneTooDeep = `{"nested": ${'['.repeat(MAPPING_LIMITS.maxInputDepth)}1${']'.repeat(MAPPING_LIMITS.maxInputDepth)}}`;
    expect((await failureOf(sut.mapRaw(oneTooDeep, context('echo')))).code).toBe(MappingErrorCode.Bounds);
  });

  it('bounds the input size, the number of events and the size of the output', async () => {
    const big = JSON.stringify({ id: 'x', name: 'y'.repeat(MAPPING_LIMITS.maxInputBytes) });
    const tooBig = await failureOf(sut.mapRaw(big, context('ok')));
    expect(tooBig.code).toBe(MappingErrorCode.Bounds);
    expect(tooBig.message).toContain(`above the ${MAPPING_LIMITS.maxInputBytes}-byte limit`);

    const many = await failure('many');
    expect(many.code).toBe(MappingErrorCode.Bounds);
    expect(many.message).toContain(`101 events, above the limit of ${MAPPING_LIMITS.maxEvents}`);

    const huge = await failure('huge');
    expect(huge.code).toBe(MappingErrorCode.Bounds);
    expect(huge.message).toContain('bytes of output');
  });

  it('runs concurrent tasks on its two threads, each with its own result, even while one thread is stuck', async () => {
    const stuck = failureOf(sut.map({ s: 'a'.repeat(64) + '!' }, context('backtrack')));
    const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const results = await Promise.all(ids.map((id) => sut.map({ id, name: `n-${id}` }, context('ok', `in_${id}`))));
    expect(results.map(([event]) => [event.subject, event.data.name])).toEqual(
      ids.map((id) => [`tag:acme:${id}`, `n-${id}`]),
    );
    expect(new Set(results.map(([event]) => event.id)).size).toBe(ids.length);
    expect((await stuck).code).toBe(MappingErrorCode.Bounds);
  });

  it('queues a task in a thread behind the one it runs, and runs it again when a hard limit stops that thread', async () => {
    // A new pool: its thread takes both tasks once it has started, the runaway first and the good one behind it.
    const one = new MappingService(root, { threads: 1 });
    try {
      const stuck = stuckOn(one, one.mapRaw);
      const behind = one
        .map({ id: 'behind', name: 'b' }, context('ok'))
        .then((events) => ({ events, stuckSettled: stuck.settled() }));
      expect((await stuck.failure).code).toBe(MappingErrorCode.Bounds);
      const { events, stuckSettled: afterStuck } = await behind;
      expect(events[0].subject).toBe('tag:acme:behind');
      expect(afterStuck).toBe(true);
    } finally {
      await one.close();
    }
  });

  it('queues nothing behind a task that has run for a while: the other thread takes the rest', async () => {
    await Promise.all([1, 2, 3, 4].map((n) => sut.map({ id: `w${n}`, name: 'b' }, context('ok')))); // threads up
    const stuck = stuckOn(sut, sut.mapRaw);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = Array.from({ length: 20 }, (_, i) => `q${i}`);
    const results = await Promise.all(ids.map((id) => sut.map({ id, name: 'n' }, context('ok', `in_${id}`))));
    expect(stuck.settled()).toBe(false);
    expect(results.map(([event]) => event.subject)).toEqual(ids.map((id) => `tag:acme:${id}`));
    expect((await stuck.failure).code).toBe(MappingErrorCode.Bounds);
  });

  it('fails a Sales Ask body with 15 000 custom fields on the field bound, off the event loop', async () => {
    const real = new MappingService(undefined, { threads: 1 });
    try {
      const salesask = (vendorEventType: string): MappingContext => ({
        ...context(vendorEventType),
        connector: 'salesask',
      });
      const samplePath = join(projectRoot(), 'connectors', 'salesask', 'samples', 'recording.processed.json');
      const body = JSON.parse(readFileSync(samplePath, 'utf8')) as { data: Record<string, unknown> };
      await real.map(body, salesask('recording.processed'));
      // Above the 10 000-field bound, and far enough below the 1 s time limit (60 000 took ~0.8 s of JSONata alone,
      // so the time limit sometimes fired first) that the field bound is what fails it.
      for (let i = 0; i < 15_000; i++) body.data[`c${i}`] = `v${i}`;
      const raw = Buffer.from(JSON.stringify(body));

      const loop = watchEventLoop();
      const outcome = await real.mapRaw(raw, salesask('recording.processed')).catch((err: unknown) => err);
      expect(loop.stop()).toBeLessThan(500);

      // A deterministic bound, not the hard time limit: the event fails with a reason that says which.
      expect(outcome).toBeInstanceOf(MappingException);
      expect((outcome as MappingException).code).toBe(MappingErrorCode.Bounds);
      expect((outcome as MappingException).message).toMatch(
        /salesask\/recording\.processed produced \d+ fields, above the limit of 10000/,
      );
    } finally {
      await real.close();
    }
  });

  describe('mapRawSoon (issue 11: ingest maps before its ack)', () => {
    // Long enough for a warm mapping on a busy CI machine, far shorter than a stuck task (the 1 s and 2 s limits).
    const quick = { perThread: 4, waitMs: 400 };

    it('maps, and gives up after its wait while the only thread is stuck, long before the stuck task ends', async () => {
      const one = new MappingService(root, { threads: 1 });
      try {
        await one.mapRaw('{"id": "w", "name": "b"}', context('ok')); // the thread boots
        const [event] = (await one.mapRawSoon('{"id": "a", "name": "b"}', context('ok'), quick))!.events;
        expect(event.subject).toBe('tag:acme:a');
        const stuck = stuckOn(one, one.mapRaw);
        await expect(one.mapRawSoon('{"id": "a", "name": "b"}', context('ok'), quick)).resolves.toBeUndefined();
        expect(stuck.settled()).toBe(false);
        expect((await stuck.failure).code).toBe(MappingErrorCode.Bounds);
        await one.mapRaw('{"id": "w", "name": "b"}', context('ok')); // the thread that replaced the stuck one boots
        await expect(one.mapRawSoon('{"id": "c", "name": "d"}', context('ok'), quick)).resolves.toMatchObject({
          events: [{ subject: 'tag:acme:c' }],
          version: expect.stringMatching(/^file:/),
        });
      } finally {
        await one.close();
      }
    });

    it('declines at once while its own kind fills the pool', async () => {
      const one = new MappingService(root, { threads: 1 });
      try {
        const stuck = stuckOn(one, (raw, ctx) => one.mapRawSoon(raw, ctx, { perThread: 1, waitMs: 60_000 }));
        await expect(
          one.mapRawSoon('{"id": "a", "name": "b"}', context('ok'), { perThread: 1, waitMs: 60_000 }),
        ).resolves.toBeUndefined();
        expect(stuck.settled()).toBe(false);
        expect((await stuck.failure).code).toBe(MappingErrorCode.Bounds);
      } finally {
        await one.close();
      }
    });

    // These two watch the order in which tasks reach the thread, so each thread takes one task at a time here; with
    // TASKS_PER_THREAD, one task per thread already handed over may go before an urgent one.
    it('goes ahead of the mappings already waiting for a thread', async () => {
      const one = new MappingService(root, { threads: 1, tasksPerThread: 1 });
      try {
        const stuck = stuckOn(one, one.mapRaw);
        const order: string[] = [];
        const waiting = [1, 2].map((n) =>
          one.mapRaw(`{"id": "w${n}", "name": "b"}`, context('ok')).then(() => order.push(`waiting ${n}`)),
        );
        const urgent = one
          .mapRawSoon('{"id": "u", "name": "b"}', context('ok'), { perThread: 4, waitMs: 60_000 })
          .then((mapped) => order.push(`urgent ${mapped?.events[0].subject}`));
        await Promise.all([stuck.failure, ...waiting, urgent]);
        expect(order).toEqual(['urgent tag:acme:u', 'waiting 1', 'waiting 2']);
      } finally {
        await one.close();
      }
    });

    it(`never starves the others: one waiting task goes after every ${URGENT_IN_A_ROW} urgent ones`, async () => {
      const one = new MappingService(root, { threads: 1, tasksPerThread: 1 });
      try {
        const stuck = stuckOn(one, one.mapRaw);
        const order: string[] = [];
        const waiting = [1, 2].map((n) =>
          one.mapRaw(`{"id": "w${n}", "name": "b"}`, context('ok')).then(() => order.push(`w${n}`)),
        );
        const urgent = [1, 2, 3, 4, 5, 6].map((n) =>
          one
            .mapRawSoon(`{"id": "u${n}", "name": "b"}`, context('ok'), { perThread: 8, waitMs: 60_000 })
            .then(() => order.push(`u${n}`)),
        );
        await Promise.all([stuck.failure, ...waiting, ...urgent]);
        expect(order).toEqual(['u1', 'u2', 'u3', 'u4', 'w1', 'u5', 'u6', 'w2']);
      } finally {
        await one.close();
      }
    });
  });

  it('refuses work once closed, with an error that is not the event’s fault', async () => {
    const closing = new MappingService(root, { threads: 1 });
    await closing.map({ id: 'a', name: 'b' }, context('ok'));
    await closing.close();
    await expect(closing.map({ id: 'a', name: 'b' }, context('ok'))).rejects.toThrow('mapping pool is closed');
    await expect(closing.map({ id: 'a', name: 'b' }, context('ok'))).rejects.not.toBeInstanceOf(MappingException);
  });
});
