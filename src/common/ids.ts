import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The bytes as one big-endian number in base62, zero-padded to the digits their length can need (16 bytes: 22).
 * Long division over 32-bit limbs in plain numbers (issue 11: BigInt allocated on every step, and every event takes
 * three ids); a remainder times 2^32 plus a limb stays below 2^38, exact in a double. The digits are the ones the
 * BigInt version gave, so stable ids derived before are derived the same (ids.spec.ts).
 */
export function base62(bytes: Buffer): string {
  const limbs: number[] = [];
  for (let end = bytes.length; end > 0; end -= 4) {
    const start = Math.max(0, end - 4);
    limbs.unshift(bytes.readUIntBE(start, end - start));
  }
  let out = '';
  for (let first = 0; first < limbs.length;) {
    let remainder = 0;
    for (let i = first; i < limbs.length; i++) {
      const value = remainder * 0x1_0000_0000 + limbs[i];
      limbs[i] = Math.floor(value / 62);
      remainder = value - limbs[i] * 62;
    }
    out = BASE62[remainder] + out;
    while (first < limbs.length && limbs[first] === 0) first++;
  }
  return out.padStart(Math.ceil((bytes.length * 8) / Math.log2(62)), '0');
}

/** An unguessable id: 128 random bits in base62 (22 characters) after a type prefix. */
export function randomId(prefix: string): string {
  return `${prefix}_${base62(randomBytes(16))}`;
}

/** A stable id derived from its parts, so re-deriving it (retry, re-normalise) gives the same row. */
export function stableId(prefix: string, ...parts: (string | number)[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest();
  return `${prefix}_${base62(digest.subarray(0, 16))}`;
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
