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
});
