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
      release();
      // 40 ms per slot over a cap of 2: one turn every 20 ms, booked one after the other.
      expect(sut.nextTurn('a', 2)).toBe(20);
      expect(sut.nextTurn('a', 2)).toBe(40);
      // A key never seen starts from the first guess.
      expect(sut.nextTurn('b', 2)).toBe(50);
    } finally {
      now.mockRestore();
    }
  });
});
