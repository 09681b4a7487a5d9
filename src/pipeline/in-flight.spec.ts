import { InFlight } from './in-flight';

describe(InFlight.name, () => {
  it('counts runs until they settle', async () => {
    const sut = new InFlight();
    let finish!: () => void;
    sut.add(new Promise<void>((resolve) => (finish = resolve)));
    sut.add(Promise.resolve());
    expect(sut.size).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sut.size).toBe(1);
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sut.size).toBe(0);
  });

  it('closes on drain and waits for every run in flight', async () => {
    const sut = new InFlight();
    let done = false;
    sut.add(new Promise<void>((resolve) => setTimeout(() => ((done = true), resolve()), 20)));
    expect(sut.closing).toBe(false);
    const drained = sut.drain();
    expect(sut.closing).toBe(true);
    await drained;
    expect(done).toBe(true);
  });

  it('waits too for runs a run starts while the drain waits', async () => {
    const sut = new InFlight();
    let second = false;
    sut.add(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          sut.add(new Promise<void>((done) => setTimeout(() => ((second = true), done()), 20)));
          resolve();
        }, 10),
      ),
    );
    await sut.drain();
    expect(second).toBe(true);
  });
});
