import { createHmac, timingSafeEqual } from 'node:crypto';
import { isHeaderName } from '../../common/header-name';
import { headerValue, VerificationError, Verifier, VerifyInput } from './verifier';
import { toleranceProblems } from './standard-webhooks.verifier';

const DEFAULT_HEADER = 'X-Signature';
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * HMAC-SHA256 of the raw body (Asan CRM `X-Asan-Signature`, Salescaling `X-Webhook-Signature`).
 * Accepts hex or base64, with or without a `sha256=` prefix; compares in constant time.
 * Optional `timestampHeader`: then the signed content is `{timestamp}.{body}` and the timestamp must be fresh.
 */
export class HmacSha256Verifier implements Verifier {
  readonly scheme = 'hmac-sha256' as const;

  verify({ rawBody, headers, secrets, settings }: VerifyInput): void {
    const headerName = String(settings.header ?? DEFAULT_HEADER);
    const signature = headerValue(headers, headerName);
    if (!signature) throw new VerificationError('missing_header', `Missing ${headerName} header`);
    let signed: Buffer = rawBody;
    if (settings.timestampHeader) {
      const timestamp = headerValue(headers, String(settings.timestampHeader));
      if (!timestamp)
        throw new VerificationError('missing_header', `Missing ${String(settings.timestampHeader)} header`);
      if (!/^\d{1,12}$/.test(timestamp)) throw new VerificationError('bad_timestamp', 'Timestamp is not unix seconds');
      const tolerance = Number(settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > tolerance) {
        throw new VerificationError('stale_timestamp', `Timestamp is outside the ${tolerance} s tolerance`);
      }
      signed = Buffer.concat([Buffer.from(`${timestamp}.`), rawBody]);
    }
    if (!secrets.length) throw new VerificationError('no_secret', 'Source has no signing secret');

    const candidates = decodeSignature(signature.trim().replace(/^sha256=/i, ''));
    for (const secret of secrets) {
      const expected = createHmac('sha256', secret).update(signed).digest();
      if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) return;
    }
    throw new VerificationError('bad_signature', 'Signature does not match');
  }

  validate(settings: Record<string, unknown>, secrets: string[]): string[] {
    const problems = toleranceProblems(settings);
    if (!secrets.length) problems.push('secrets: an hmac-sha256 source needs the signing secret');
    if (settings.header !== undefined && !isHeaderName(settings.header))
      problems.push('verification.header: not a header name');
    if (settings.timestampHeader !== undefined && !isHeaderName(settings.timestampHeader)) {
      problems.push('verification.timestampHeader: not a header name');
    }
    return problems;
  }

  describe(settings: Record<string, unknown>) {
    const headers = [String(settings.header ?? DEFAULT_HEADER)];
    if (settings.timestampHeader) headers.push(String(settings.timestampHeader));
    return {
      scheme: this.scheme,
      headers,
      secretsRequired: true,
      secretFormat: 'the shared signing secret',
      // The timestamp is checked only when the vendor sends one.
      ...(settings.timestampHeader
        ? { toleranceSeconds: Number(settings.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) }
        : {}),
    };
  }
}

/** A hex digest is 64 hex characters; anything else is tried as base64 (standard or url-safe). */
function decodeSignature(value: string): Buffer[] {
  const out: Buffer[] = [];
  if (/^[0-9a-f]{64}$/i.test(value)) out.push(Buffer.from(value, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value))
    out.push(Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  return out;
}
