import fc from 'fast-check';
import { base62, randomId, stableId } from './ids';

/** The BigInt form base62 had before issue 11: the reference its digits must keep matching. */
function base62BigInt(bytes: Buffer): string {
  let n = BigInt('0x' + (bytes.toString('hex') || '0'));
  let out = '';
  while (n > 0n) {
    out = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(Math.ceil((bytes.length * 8) / Math.log2(62)), '0');
}

describe('ids', () => {
  it('gives the digits the BigInt version gave, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        expect(base62(buffer)).toBe(base62BigInt(buffer));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the digits the BigInt version gave at the edges: all zero, all ones, one bit set', () => {
    for (const length of [1, 3, 4, 5, 16, 32]) {
      const zero = Buffer.alloc(length);
      const ones = Buffer.alloc(length, 0xff);
      const top = Buffer.alloc(length);
      top[0] = 0x80;
      const bottom = Buffer.alloc(length);
      bottom[length - 1] = 1;
      for (const bytes of [zero, ones, top, bottom]) expect(base62(bytes)).toBe(base62BigInt(bytes));
    }
  });

  it('derives the same stable ids as before, so rows written earlier are found again', () => {
    // Printed by the BigInt version (75a7d65).
    expect(stableId('msg', 'dst_1', 'evt_1')).toBe('msg_5T8Ti1wW37ydjPE87PFSb3');
    expect(stableId('evt', 'in_abc', 0)).toBe('evt_0LkLUbxQ7BTR68mRZ20RlW');
    expect(stableId('evt', 'in_abc', 2, 1)).toBe('evt_7947iqUfHw2dLaEKe3VuuH');
  });

  it('makes 22-digit random ids that differ', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId('in')));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^in_[0-9A-Za-z]{22}$/);
  });
});
