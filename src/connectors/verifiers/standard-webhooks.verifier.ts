import { timingSafeEqual } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { Webhook } from 'standardwebhooks';
import { headerValue, VerificationError, Verifier, VerifyInput } from './verifier';

const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Standard Webhooks (and Svix, which AskElephant uses): HMAC-SHA256 over `{id}.{timestamp}.{body}`.
 * Accepts both `webhook-*` and `svix-*` header names. The HMAC comes from the `standardwebhooks` library;
 * the timestamp window is checked here because the library's is fixed at 5 minutes and ours is configurable.
 */
export class StandardWebhooksVerifier implements Verifier {
  readonly scheme = 'standard-webhooks' as const;

  verify({ rawBody, headers, secrets, settings }: VerifyInput): void {
    const id = headerValue(headers, 'webhook-id') ?? headerValue(headers, 'svix-id');
    const timestamp = headerValue(headers, 'webhook-timestamp') ?? headerValue(headers, 'svix-timestamp');
    const signature = headerValue(headers, 'webhook-signature') ?? headerValue(headers, 'svix-signature');
    if (!id || !timestamp || !signature) {
      throw new VerificationError('missing_header', 'Missing webhook-id/svix-id, -timestamp or -signature header');
    }
    if (!/^\d{1,12}$/.test(timestamp))
      throw new VerificationError('bad_timestamp', 'Signature timestamp is not unix seconds');
    const tolerance = Number(settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
    const skew = Math.abs(Date.now() / 1000 - Number(timestamp));
    if (skew > tolerance) {
      throw new VerificationError('stale_timestamp', `Signature timestamp is outside the ${tolerance} s tolerance`);
    }
    if (!secrets.length) throw new VerificationError('no_secret', 'Source has no signing secret');
    // The library signs a string; bytes that are not UTF-8 would be replaced before signing and could be altered
    // unnoticed. JSON is UTF-8 (RFC 8259 §8.1), so such a body cannot be the one the vendor signed.
    if (!isUtf8(rawBody)) throw new VerificationError('bad_signature', 'Body is not valid UTF-8');

    // Standard Webhooks §signature: several space-separated `v1,<base64>` signatures may be sent (sender rotation).
    const given = signature
      .split(' ')
      .map((part) => part.split(','))
      .filter(([version, value]) => version === 'v1' && value)
      .map(([, value]) => Buffer.from(value, 'base64'));
    const signedAt = new Date(Number(timestamp) * 1000);
    // Several secrets may be configured on our side during a rotation.
    for (const secret of secrets) {
      const expected = Buffer.from(new Webhook(secret).sign(id, signedAt, rawBody).split(',')[1], 'base64');
      if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected)))
        return;
    }
    throw new VerificationError('bad_signature', 'Signature does not match');
  }

  validate(settings: Record<string, unknown>, secrets: string[]): string[] {
    const problems: string[] = [];
    if (!secrets.length) problems.push('secrets: a standard-webhooks source needs its whsec_ signing secret');
    for (const secret of secrets) {
      if (!isWhsecSecret(secret))
        problems.push('secrets: each secret must be a whsec_ secret (base64 after the prefix)');
    }
    problems.push(...toleranceProblems(settings));
    return problems;
  }

  describe(settings: Record<string, unknown> = {}) {
    return {
      scheme: this.scheme,
      headers: [
        'svix-id (or webhook-id)',
        'svix-timestamp (or webhook-timestamp)',
        'svix-signature (or webhook-signature)',
      ],
      secretsRequired: true,
      secretFormat: 'whsec_<base64>',
      toleranceSeconds: Number(settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS),
    };
  }
}

export function toleranceProblems(settings: Record<string, unknown>): string[] {
  const tolerance = settings.toleranceSeconds;
  if (tolerance === undefined) return [];
  return typeof tolerance === 'number' && tolerance > 0 && tolerance <= 86400
    ? []
    : ['verification.toleranceSeconds: must be a number of seconds between 1 and 86400'];
}

export function isWhsecSecret(secret: string): boolean {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) return false;
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}
