import { BoundedMemo } from './bounded-memo';

describe('BoundedMemo', () => {
  it('computes a key once and keeps it', () => {
    const memo = new BoundedMemo<string, number>(4);
    const compute = jest.fn((key: string) => key.length);
    expect(memo.get('abc', compute)).toBe(3);
    expect(memo.get('abc', compute)).toBe(3);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('starts over once full, and still answers every key', () => {
    const memo = new BoundedMemo<number, number>(2);
    const compute = jest.fn((key: number) => key * 10);
    [1, 2, 3].forEach((key) => expect(memo.get(key, compute)).toBe(key * 10));
    // 3 cleared the memo: 1 is computed again, 3 is kept.
    expect(memo.get(1, compute)).toBe(10);
    expect(memo.get(3, compute)).toBe(30);
    expect(compute).toHaveBeenCalledTimes(4);
  });

  it('keeps nothing for a key whose compute throws', () => {
    const memo = new BoundedMemo<string, string>(4);
    let fail = true;
    const compute = (key: string) => {
      if (fail) throw new Error('no');
      return key;
    };
    expect(() => memo.get('k', compute)).toThrow('no');
    fail = false;
    expect(memo.get('k', compute)).toBe('k');
  });
});
