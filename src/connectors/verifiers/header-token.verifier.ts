import { createHash, timingSafeEqual } from 'node:crypto';
import { isHeaderName } from '../../common/header-name';
import { headerValue, VerificationError, Verifier, VerifyInput } from './verifier';

/** DESIGN §7: the default header name for header-token sources. */
export const DEFAULT_TOKEN_HEADER = 'X-Webhook-Token';

/**
 * A configured header must equal a configured secret (Salescaling and the telephony custom webhook let ops add
 * custom headers). Compared in constant time over SHA-256 digests so length differences leak nothing.
 * There is no timestamp, so replays are absorbed by the dedup key instead.
 */
export class HeaderTokenVerifier implements Verifier {
  readonly scheme = 'header-token' as const;

  verify({ headers, secrets, settings }: VerifyInput): void {
    const headerName = tokenHeader(settings);
    const given = headerValue(headers, headerName);
    if (!given) throw new VerificationError('missing_header', `Missing ${headerName} header`);
    if (!secrets.length) throw new VerificationError('no_secret', 'Source has no token');
    const givenDigest = digest(given.replace(/^Bearer\s+/i, ''));
    const plainDigest = digest(given);
    for (const secret of secrets) {
      const expected = digest(secret);
      if (timingSafeEqual(givenDigest, expected) || timingSafeEqual(plainDigest, expected)) return;
    }
    throw new VerificationError('bad_token', `${headerName} does not match`);
  }

  validate(settings: Record<string, unknown>, secrets: string[]): string[] {
    const problems: string[] = [];
    if (!secrets.length)
      problems.push(`secrets: a header-token source needs the expected ${tokenHeader(settings)} value`);
    if (secrets.some((s) => s.length < 8)) problems.push('secrets: tokens must be at least 8 characters');
    if (settings.header !== undefined && !isHeaderName(settings.header))
      problems.push('verification.header: not a header name');
    return problems;
  }

  describe(settings: Record<string, unknown>) {
    return {
      scheme: this.scheme,
      headers: [tokenHeader(settings)],
      secretsRequired: true,
      secretFormat: 'the token value',
    };
  }
}

/** Header names that carry a token are credentials: they are stripped before headers are stored. */
export function tokenHeader(settings: Record<string, unknown>): string {
  return String(settings.header ?? DEFAULT_TOKEN_HEADER);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
