import { BusyPacer } from './busy-pacer';

describe(BusyPacer.name, () => {
  it('spaces a busy key’s postponed jobs one turn apart: time per job ÷ cap', () => {
    const pacer = new BusyPacer(100, 60_000);
    pacer.observe('src_1', 40);
    const delays = [0, 1, 2, 3].map(() => pacer.delayFor('src_1', 4, 1_000));
    expect(delays).toEqual([10, 20, 30, 40]);
  });

  it('starts from the first guess until it has seen a job, and keeps keys apart', () => {
    const pacer = new BusyPacer(100, 60_000);
    expect(pacer.delayFor('src_1', 2, 0)).toBe(50);
    expect(pacer.delayFor('src_2', 1, 0)).toBe(100);
    expect(pacer.delayFor('src_1', 2, 0)).toBe(100);
  });

  it('follows the key’s recent times', () => {
    const pacer = new BusyPacer(100, 60_000);
    pacer.observe('src_1', 100);
    for (let i = 0; i < 30; i++) pacer.observe('src_1', 500);
    expect(pacer.delayFor('src_1', 1, 0)).toBeGreaterThan(490);
  });

  it('starts again from now once the booked turns have passed', () => {
    const pacer = new BusyPacer(100, 60_000);
    for (let i = 0; i < 5; i++) pacer.delayFor('src_1', 1, 0);
    expect(pacer.delayFor('src_1', 1, 10_000)).toBe(100);
  });

  it('never books further ahead than its maximum', () => {
    const pacer = new BusyPacer(1_000, 5_000);
    const delays = Array.from({ length: 10 }, () => pacer.delayFor('src_1', 1, 0));
    expect(Math.max(...delays)).toBe(5_000);
    expect(delays.slice(0, 4)).toEqual([1_000, 2_000, 3_000, 4_000]);
  });
});
