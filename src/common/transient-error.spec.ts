import { isTransientError } from './transient-error';

describe(isTransientError.name, () => {
  it('retries what says a dependency is down', () => {
    expect(isTransientError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isTransientError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientError(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(true);
    expect(isTransientError(new Error('Connection is closed.'))).toBe(true);
    expect(isTransientError(new Error('Redis did not answer within 1000 ms'))).toBe(true);
  });

  it('does not retry errors in the data', () => {
    const tooBig = Object.assign(new Error('index row requires 12024 bytes, maximum size is 8191'), { code: '54000' });
    expect(isTransientError(tooBig)).toBe(false);
    expect(isTransientError(new RangeError('Maximum call stack size exceeded'))).toBe(false);
    expect(isTransientError(Object.assign(new Error('invalid input syntax'), { code: '22P02' }))).toBe(false);
    expect(isTransientError(undefined)).toBe(false);
  });
});
