import { KeyedSerializer } from './keyed-serializer';

describe(KeyedSerializer.name, () => {
  it('runs work for one key in order, other keys alongside, and goes on after a failure', async () => {
    const sut = new KeyedSerializer();
    const log: string[] = [];
    const step =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      sut.run('a', step('a1', 20, true)),
      sut.run('a', step('a2', 1)),
      sut.run('b', step('b1', 1)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
  });
});
