import { Coalescer, firstCallGets } from './coalescer';

describe(Coalescer.name, () => {
  /** A batch runner that holds each batch until released, recording what it was given. */
  function heldRunner(fail?: (input: number) => boolean) {
    const batches: number[][] = [];
    const releases: (() => void)[] = [];
    const runBatch = (inputs: number[]) => {
      batches.push(inputs);
      return new Promise<number[]>((resolve, reject) =>
        releases.push(() => {
          const bad = inputs.find((input) => fail?.(input));
          if (bad !== undefined) reject(Object.assign(new Error(`bad row ${bad}`), { code: '22007' }));
          else resolve(inputs.map((input) => input * 10));
        }),
      );
    };
    return { batches, releases, runBatch };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('sends the calls made in one turn of the event loop together, at the end of that turn', async () => {
    const runner = heldRunner();
    const sut = new Coalescer(runner.runBatch, 1);
    const first = [1, 2].map((input) => sut.run(input));
    expect(runner.batches).toEqual([]);
    await settle();
    expect(runner.batches).toEqual([[1, 2]]);
    runner.releases[0]();
    await expect(Promise.all(first)).resolves.toEqual([10, 20]);
  });

  it('queues what arrives while every slot is busy, and sends it together in the next batch', async () => {
    const runner = heldRunner();
    const sut = new Coalescer(runner.runBatch, 1);
    const first = sut.run(1);
    await settle();
    const rest: Promise<number>[] = [];
    for (const input of [2, 3, 4]) {
      rest.push(sut.run(input));
      await settle();
    }
    expect(runner.batches).toEqual([[1]]);
    runner.releases[0]();
    await expect(first).resolves.toBe(10);
    await settle();
    expect(runner.batches).toEqual([[1], [2, 3, 4]]);
    runner.releases[1]();
    await expect(Promise.all(rest)).resolves.toEqual([20, 30, 40]);
  });

  it('runs up to maxInFlight batches at once and caps each batch at maxBatch', async () => {
    const runner = heldRunner();
    const sut = new Coalescer(runner.runBatch, 2, 2);
    const calls = [1, 2, 3, 4, 5].map((input) => sut.run(input));
    await settle();
    expect(runner.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    runner.releases[0]();
    await settle();
    expect(runner.batches).toEqual([[1, 2], [3, 4], [5]]);
    runner.releases.slice(1).forEach((release) => release());
    await expect(Promise.all(calls)).resolves.toEqual([10, 20, 30, 40, 50]);
  });

  it('keeps a batch within its weight limit; a call heavier than the limit goes alone', async () => {
    const runner = heldRunner();
    const sut = new Coalescer(runner.runBatch, 1, 256, { of: (input: number) => input, max: 10 });
    const calls = [1, 4, 5, 2, 30, 3].map((input) => sut.run(input));
    await settle();
    for (let i = 0; i < 4; i++) {
      runner.releases[i]?.();
      await settle();
    }
    expect(runner.batches).toEqual([[1, 4, 5], [2], [30], [3]]);
    await expect(Promise.all(calls)).resolves.toEqual([10, 40, 50, 20, 300, 30]);
  });

  it('tries a failed batch again one call at a time, so a bad row fails only its own call', async () => {
    const sut = new Coalescer(async (inputs: number[]) => {
      if (inputs.includes(3)) throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
      return inputs.map((input) => input * 10);
    }, 1);
    const calls = [2, 3, 4].map((input) => sut.run(input));
    const results = await Promise.allSettled(calls);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every call of a batch at once when Postgres is unavailable, without trying each', async () => {
    const runBatch = jest.fn(async (inputs: number[]) => {
      if (inputs.length > 1)
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return inputs;
    });
    const sut = new Coalescer(runBatch, 1);
    const calls = [1, 2].map((input) => sut.run(input));
    await expect(Promise.allSettled(calls)).resolves.toEqual([
      expect.objectContaining({ status: 'rejected' }),
      expect.objectContaining({ status: 'rejected' }),
    ]);
    expect(runBatch).toHaveBeenCalledTimes(1);
  });

  describe(firstCallGets.name, () => {
    it('gives each row to the first call for its id, and undefined to a repeat or a call with no row', () => {
      const rows = [
        { id: 'b', n: 2 },
        { id: 'a', n: 1 },
      ];
      expect(firstCallGets(rows, ['a', 'c', 'a', 'b'])).toEqual([
        { id: 'a', n: 1 },
        undefined,
        undefined,
        { id: 'b', n: 2 },
      ]);
    });
  });
});
