import * as ipaddr from 'ipaddr.js';
import { VerificationError, Verifier, VerifyInput } from './verifier';

/**
 * Sales Ask documents no signing: the unguessable source id in the URL is the secret (DESIGN §3).
 * Optionally restrict senders with `verification.ipAllow` (CIDRs).
 */
export class UrlTokenVerifier implements Verifier {
  readonly scheme = 'url-token' as const;

  verify({ remoteAddress, settings }: VerifyInput): void {
    const allow = (settings.ipAllow as string[] | undefined) ?? [];
    if (!allow.length) return;
    let address: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      address = ipaddr.process(remoteAddress);
    } catch {
      throw new VerificationError('ip_not_allowed', 'Sender address is not allowed');
    }
    const allowed = allow.some((cidr) => {
      const [range, bits] = ipaddr.parseCIDR(cidr);
      return address.kind() === range.kind() && address.match(range, bits);
    });
    if (!allowed) throw new VerificationError('ip_not_allowed', 'Sender address is not allowed');
  }

  validate(settings: Record<string, unknown>): string[] {
    const allow = settings.ipAllow;
    if (allow === undefined) return [];
    if (!Array.isArray(allow)) return ['verification.ipAllow: must be a list of CIDRs'];
    return allow.flatMap((cidr) => {
      try {
        ipaddr.parseCIDR(String(cidr));
        return [];
      } catch {
        return [`verification.ipAllow: "${String(cidr)}" is not a CIDR`];
      }
    });
  }

  describe() {
    return { scheme: this.scheme, headers: [], secretsRequired: false };
  }
}
