import { warmUp } from './mapping.worker';

describe('mapping thread warm-up', () => {
  it('runs every higher-order function it names, each with its own lambdas, to the expected values', async () => {
    expect(await warmUp(2)).toEqual([
      { a: 1, b: 'x', d: [1, 2, 3] },
      { b: 'x', c: null, d: [1, 2, 3] },
      ...[2, 3, 4],
      ...[0, 1, 2],
      ...[2, 3],
      1,
      ...['a', 'b', 'c', 'd'],
      6,
      2,
      ...[1, 2, 3],
    ]);
  });
});
