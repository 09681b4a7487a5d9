import { DestinationGate } from './destination-gate';

describe(DestinationGate.name, () => {
  it('gives each destination at most its cap of slots, independently of the others', () => {
    const sut = new DestinationGate(2);
    const a1 = sut.tryAcquire('a');
    const a2 = sut.tryAcquire('a');
    expect(a1).toBeDefined();
    expect(a2).toBeDefined();
    expect(sut.tryAcquire('a')).toBeUndefined();
    expect(sut.tryAcquire('b')).toBeDefined();
    a1!();
    expect(sut.held('a')).toBe(1);
    expect(sut.tryAcquire('a')).toBeDefined();
  });

  it('releases a slot once, however often release is called', () => {
    const sut = new DestinationGate(1);
    const release = sut.tryAcquire('a')!;
    release();
    release();
    expect(sut.held('a')).toBe(0);
    const again = sut.tryAcquire('a');
    expect(again).toBeDefined();
    release();
    expect(sut.held('a')).toBe(1);
  });
});
