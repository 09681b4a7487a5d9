import { MAX_RETRY_AFTER_SECONDS, nextDelayMs } from './retry-policy';

describe(nextDelayMs.name, () => {
  const schedule = [0, 5, 300];

  it('waits schedule[attemptsMade] with ±20 % jitter', () => {
    expect(nextDelayMs(schedule, 1, undefined, () => 0.5)).toBe(5000);
    expect(nextDelayMs(schedule, 1, undefined, () => 0)).toBe(4000);
    expect(nextDelayMs(schedule, 1, undefined, () => 1)).toBe(6000);
    expect(nextDelayMs(schedule, 2, undefined, () => 0.5)).toBe(300_000);
  });

  it('gives up after the last scheduled attempt', () => {
    expect(nextDelayMs(schedule, 3)).toBeUndefined();
  });

  it('honours Retry-After when it asks for longer, clamped to a day', () => {
    expect(nextDelayMs(schedule, 1, 60, () => 0.5)).toBe(60_000);
    expect(nextDelayMs(schedule, 2, 1, () => 0.5)).toBe(300_000);
    expect(nextDelayMs(schedule, 1, 10 * MAX_RETRY_AFTER_SECONDS, () => 0.5)).toBe(MAX_RETRY_AFTER_SECONDS * 1000);
  });
});
