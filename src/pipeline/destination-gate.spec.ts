import { DestinationGate } from './destination-gate';

describe(DestinationGate.name, () => {
  it('gives each destination at most its cap of slots, independently of the others', () => {
    const CAP = 2;
    const sut = new DestinationGate();
    const a1 = sut.tryAcquire('a', CAP);
    const a2 = sut.tryAcquire('a', CAP);
    expect(a1).toBeDefined();
    expect(a2).toBeDefined();
    expect(sut.tryAcquire('a', CAP)).toBeUndefined();
    expect(sut.tryAcquire('b', CAP)).toBeDefined();
    a1!();
    expect(sut.held('a')).toBe(1);
    expect(sut.tryAcquire('a', CAP)).toBeDefined();
  });

  it('releases a slot once, however often release is called', () => {
    const CAP = 1;
    const sut = new DestinationGate();
    const release = sut.tryAcquire('a', CAP)!;
    release();
    release();
    expect(sut.held('a')).toBe(0);
    const again = sut.tryAcquire('a', CAP);
    expect(again).toBeDefined();
    release();
    expect(sut.held('a')).toBe(1);
  });

  it('hands a freed slot straight to a waiting job, first come first served', async () => {
    const sut = new DestinationGate();
    const held = sut.tryAcquire('a', 1)!;
    const first = sut.acquire('a', 1, 10_000);
    held();
    const release = await first;
    expect(release).toBeDefined();
    expect(sut.held('a')).toBe(1);
    release!();
    expect(sut.held('a')).toBe(0);
  });

  it('lets at most cap jobs wait, each only for maxWaitMs, so a slow destination keeps its slots short', async () => {
    const sut = new DestinationGate();
    sut.tryAcquire('a', 1);
    const waiter = sut.acquire('a', 1, 20);
    await expect(sut.acquire('a', 1, 20)).resolves.toBeUndefined();
    await expect(waiter).resolves.toBeUndefined();
    expect(sut.held('a')).toBe(1);
    expect(sut.tryAcquire('b', 1)).toBeDefined();
  });

  it('books a busy key’s turns from how long its slots were held', () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000);
    try {
      const sut = new DestinationGate({ firstGuessMs: 100, maxDelayMs: 60_000 });
      const release = sut.tryAcquire('a', 2)!;
      now.mockReturnValue(1_040);
      release(true);
      // 40 ms per slot over a cap of 2: one turn every 20 ms, booked one after the other.
      expect(sut.nextTurn('a', 2)).toBe(20);
      expect(sut.nextTurn('a', 2)).toBe(40);
      // A key never seen starts from the first guess.
      expect(sut.nextTurn('b', 2)).toBe(50);
    } finally {
      now.mockRestore();
    }
  });

  describe('adaptive limit', () => {
    const LIMIT = { base: 2, max: 4 };
    let now: jest.SpyInstance<number, []>;
    beforeEach(() => (now = jest.spyOn(Date, 'now').mockReturnValue(0)));
    afterEach(() => now.mockRestore());
    /** Holds a slot for `ms` and releases it with `ok`. */
    const hold = (sut: DestinationGate, ms: number, ok = true) => {
      const release = sut.tryAcquire('a', LIMIT)!;
      now.mockReturnValue(Date.now() + ms);
      release(ok);
    };
    /** Takes every free slot but one, then holds that one fast: the destination uses all it has. */
    const busyFast = (sut: DestinationGate) => {
      const others: (() => void)[] = [];
      while (sut.held('a') < sut.limitOf('a', LIMIT) - 1) others.push(sut.tryAcquire('a', LIMIT)!);
      hold(sut, 10);
      return others;
    };

    it('grows by one per fast attempt while every slot is busy, up to its max', () => {
      const sut = new DestinationGate({ fastMs: 100 });
      expect(sut.limitOf('a', LIMIT)).toBe(2);
      const held = [...busyFast(sut)];
      expect(sut.limitOf('a', LIMIT)).toBe(3);
      for (let i = 0; i < 4; i++) held.push(...busyFast(sut));
      expect(sut.limitOf('a', LIMIT)).toBe(4);
      held.forEach((release) => release());
      // Another key keeps its own limit.
      expect(sut.limitOf('b', LIMIT)).toBe(2);
    });

    it('leaves the limit alone when a slot is given back unused', () => {
      const sut = new DestinationGate({ fastMs: 100 });
      const held = [sut.tryAcquire('a', LIMIT)!, sut.tryAcquire('a', LIMIT)!];
      held[0]();
      expect(sut.limitOf('a', LIMIT)).toBe(2);
      held[1](true);
      expect(sut.limitOf('a', LIMIT)).toBe(2);
    });

    it('does not grow while the destination does not use every slot', () => {
      const sut = new DestinationGate({ fastMs: 100 });
      for (let i = 0; i < 5; i++) hold(sut, 10);
      expect(sut.limitOf('a', LIMIT)).toBe(2);
    });

    it('halves, never below its base, on a slow or failed attempt, and gives no slot beyond the new limit', () => {
      const sut = new DestinationGate({ fastMs: 100 });
      const busy: (() => void)[] = [];
      for (let i = 0; i < 5; i++) busy.push(...busyFast(sut));
      expect(sut.limitOf('a', LIMIT)).toBe(4);
      expect(sut.held('a')).toBe(3);
      busy.splice(1).forEach((release) => release());
      const held = [sut.tryAcquire('a', LIMIT)!, sut.tryAcquire('a', LIMIT)!, sut.tryAcquire('a', LIMIT)!];
      now.mockReturnValue(Date.now() + 500);
      held[0](true);
      expect(sut.limitOf('a', LIMIT)).toBe(2);
      // Three held against a limit of two: nothing more until two are released.
      expect(sut.tryAcquire('a', LIMIT)).toBeUndefined();
      held[1](false);
      expect(sut.limitOf('a', LIMIT)).toBe(2);
      expect(sut.tryAcquire('a', LIMIT)).toBeUndefined();
      held[2](true);
      busy[0]();
      expect(sut.tryAcquire('a', LIMIT)).toBeDefined();
    });

    it('hands a slot the limit just gained to a second waiter', async () => {
      const sut = new DestinationGate({ fastMs: 100 });
      const [first, second] = [sut.tryAcquire('a', LIMIT)!, sut.tryAcquire('a', LIMIT)!];
      const waiters = [sut.acquire('a', LIMIT, 10_000), sut.acquire('a', LIMIT, 10_000)];
      now.mockReturnValue(10);
      first(true);
      // Fast while busy: the limit is 3, so both waiters get a slot from one release.
      const [a, b] = await Promise.all(waiters);
      expect(a && b).toBeDefined();
      expect(sut.held('a')).toBe(3);
      second();
    });
  });
});
