import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

const GCM_AUTH_FAILURE = 'Unsupported state or unable to authenticate data';

describe(SecretBox.name, () => {
  const key = randomBytes(32);
  const sut = new SecretBox(key);

  it('opens what it sealed: an object', () => {
    const value = { token: 'tok_123', nested: { list: [1, 'two'] } };
    expect(sut.open(sut.seal(value))).toEqual(value);
  });

  it('opens what it sealed: an array', () => {
    const value = ['whsec_old', 'whsec_new'];
    expect(sut.open(sut.seal(value))).toEqual(value);
  });

  it('stores v1:<iv>:<tag>:<ciphertext> with a 12-byte IV and a 16-byte tag', () => {
    const [version, iv, tag, ciphertext] = sut.seal(['x']).split(':');
    expect(version).toBe('v1');
    expect(Buffer.from(iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64')).toHaveLength(16);
    expect(ciphertext.length).toBeGreaterThan(0);
  });

  it('seals the same value differently each time (random IV)', () => {
    const first = sut.seal({ a: 1 });
    const second = sut.seal({ a: 1 });
    expect(first).not.toBe(second);
    expect(first.split(':')[1]).not.toBe(second.split(':')[1]);
  });

  it('refuses to open tampered ciphertext', () => {
    const [version, iv, tag, ciphertext] = sut.seal({ secret: 'abc' }).split(':');
    const flipped = Buffer.from(ciphertext, 'base64');
    flipped[0] ^= 0x01;
    expect(() => sut.open([version, iv, tag, flipped.toString('base64')].join(':'))).toThrow(GCM_AUTH_FAILURE);
  });

  it('refuses to open with a different key', () => {
    const sealed = sut.seal({ secret: 'abc' });
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow(GCM_AUTH_FAILURE);
  });

  it('refuses an unknown version', () => {
    const sealed = sut.seal('x').replace(/^v1:/, 'v9:');
    expect(() => sut.open(sealed)).toThrow('unknown sealed-secret version v9');
  });

  it('refuses a truncated auth tag', () => {
    const [version, iv, tag, ciphertext] = sut.seal({ a: 1 }).split(':');
    const truncated = [version, iv, Buffer.from(tag, 'base64').subarray(0, 4).toString('base64'), ciphertext].join(':');
    expect(() => sut.open(truncated)).toThrow();
  });

  it('rejects a 16-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('encryption key must be 32 bytes');
  });

  describe('developmentKey', () => {
    it('is a 32-byte key, deterministic per database URL', () => {
      const url = 'postgres://postgres@127.0.0.1:5432/switchboard';
      const first = SecretBox.developmentKey(url);
      expect(first).toHaveLength(32);
      expect(SecretBox.developmentKey(url).equals(first)).toBe(true);
    });

    it('differs between database URLs', () => {
      const a = SecretBox.developmentKey('postgres://postgres@127.0.0.1:5432/switchboard');
      const b = SecretBox.developmentKey('postgres://postgres@127.0.0.1:5432/switchboard_test');
      expect(a.equals(b)).toBe(false);
    });

    it('lets a restarted hub open what it sealed before', () => {
      const url = 'postgres://postgres@db:5432/switchboard';
      const sealed = new SecretBox(SecretBox.developmentKey(url)).seal(['tok']);
      expect(new SecretBox(SecretBox.developmentKey(url)).open(sealed)).toEqual(['tok']);
    });
  });

  it('deciphers a sealed text once, and gives each caller its own copy', () => {
    class CountingBox extends SecretBox {
      deciphered = 0;
      protected override decrypt(sealed: string): string {
        this.deciphered++;
        return super.decrypt(sealed);
      }
    }
    const box = new CountingBox(key);
    const sealed = box.seal([{ secret: 'whsec_a' }]);
    const first = box.open<{ secret: string }[]>(sealed);
    first[0].secret = 'changed by a caller';
    expect(box.open(sealed)).toEqual([{ secret: 'whsec_a' }]);
    expect(box.deciphered).toBe(1);
  });

  it('still opens every text once it has opened more than it keeps', () => {
    const box = new SecretBox(key);
    const sealed = Array.from({ length: 1500 }, (_, i) => box.seal({ n: i }));
    sealed.forEach((text, i) => expect(box.open(text)).toEqual({ n: i }));
    expect(box.open(sealed[0])).toEqual({ n: 0 });
  });
});
