import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { BoundedMemo } from './bounded-memo';

/** How many opened texts SecretBox keeps; past that it starts over (a hub has a few per source and destination). */
const MAX_OPENED = 1024;

/**
 * Encrypts secrets at rest with AES-256-GCM. The stored form is `v1:<iv>:<tag>:<ciphertext>` (base64 parts),
 * so a later key rotation can add `v2` without guessing.
 */
export class SecretBox {
  /**
   * Sealed text → its plaintext, for the texts opened lately (issue 11: every delivery opens its destination's
   * signing secrets and headers, and a decipher costs more than the rest of the signing). A sealed text never
   * changes (each seal has its own IV), so an entry is never stale; a rotation seals a new text.
   */
  private readonly opened = new BoundedMemo<string, string>(MAX_OPENED);

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  }

  /** The development fallback: a key derived from the database URL, so restarts can still decrypt. */
  static developmentKey(databaseUrl: string): Buffer {
    return scryptSync(databaseUrl, 'switchboard-development-only', 32);
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(
      ':',
    );
  }

  open<T>(sealed: string): T {
    // Parsed on every call: each caller gets its own object.
    return JSON.parse(this.opened.get(sealed, (text) => this.decrypt(text))) as T;
  }

  protected decrypt(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(':');
    if (version !== 'v1') throw new Error(`unknown sealed-secret version ${version}`);
    // A fixed 16-byte tag length: otherwise GCM would accept a truncated tag and weaken tamper detection.
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
  }
}
