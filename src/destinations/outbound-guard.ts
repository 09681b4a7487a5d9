import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import * as ipaddr from 'ipaddr.js';
import type { HubConfig } from '../config/hub-config';

export class OutboundRefusedError extends Error {}

/**
 * DESIGN §5 safety: outbound targets resolving to private, loopback or link-local addresses are refused unless
 * HUB_OUTBOUND_ALLOW lists them. Checked on the address actually connected to (a custom `lookup`), so DNS
 * rebinding between check and connect cannot slip through.
 */
export function isAllowedAddress(address: string, allow: HubConfig['outboundAllow']): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  if (allow.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits))) return true;
  return ip.range() === 'unicast';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http.request that only ever hands back allowed addresses. */
export function guardedLookup(allow: HubConfig['outboundAllow']) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => isAllowedAddress(a.address, allow));
      if (!allowed.length) {
        const refused = new OutboundRefusedError(
          `${hostname} resolves to ${addresses.map((a) => a.address).join(', ')}: private, loopback and link-local ` +
            'targets are refused unless HUB_OUTBOUND_ALLOW lists them',
        ) as NodeJS.ErrnoException;
        refused.code = 'EOUTBOUNDREFUSED';
        return callback(refused, []);
      }
      if (options?.all) return callback(null, allowed);
      return callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** Creation-time check, for a clear 400 instead of a delivery that can never succeed. Unresolvable hosts pass. */
export async function checkTarget(url: string, allow: HubConfig['outboundAllow']): Promise<string | undefined> {
  const { hostname } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    guardedLookup(allow)(host, { all: true }, (err) => {
      resolve(err instanceof OutboundRefusedError ? err.message : undefined);
    });
  });
}
