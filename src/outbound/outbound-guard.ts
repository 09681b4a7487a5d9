import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import * as ipaddr from 'ipaddr.js';
import type { HubConfig } from '../config/hub-config';

export class OutboundRefusedError extends Error {}

type Allow = HubConfig['outboundAllow'];

/** RFC 6052 §2.1: the NAT64 well-known prefix; a translator turns 64:ff9b::a.b.c.d into a connection to a.b.c.d. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * DESIGN §5 safety: outbound targets resolving to private, loopback or link-local addresses are refused unless
 * HUB_OUTBOUND_ALLOW lists them. Checked on the address actually connected to (a custom `lookup`), so DNS
 * rebinding between check and connect cannot slip through.
 */
export function isAllowedAddress(address: string, allow: Allow): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns IPv4-mapped ::ffff:a.b.c.d into a.b.c.d, so those get the IPv4 rules.
    ip = ipaddr.process(address);
  } catch {
    return false;
  }
  return isAllowedIp(ip, allow);
}

function isAllowedIp(ip: ipaddr.IPv4 | ipaddr.IPv6, allow: Allow): boolean {
  if (allow.some(([range, bits]) => ip.kind() === range.kind() && ip.match(range, bits))) return true;
  if (ip.kind() === 'ipv6') {
    // An IPv6 address that carries an IPv4 one reaches that IPv4 host (through a translator, a relay or a
    // dual stack), so it is exactly as allowed as the IPv4 address it carries.
    const embedded = embeddedIPv4(ip as ipaddr.IPv6);
    if (embedded) return isAllowedIp(embedded, allow);
  }
  return ip.range() === 'unicast';
}

/** The IPv4 address inside the IPv6 forms that embed one, else undefined. */
function embeddedIPv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const parts = ip.parts;
  const fromWords = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  // RFC 4291 §2.5.5.1: IPv4-compatible ::a.b.c.d (deprecated, yet ipaddr.js calls it plain unicast).
  // :: and ::1 are not IPv4-compatible addresses; ipaddr.js classifies those itself.
  if (parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || parts[7] > 1)) {
    return fromWords(parts[6], parts[7]);
  }
  // RFC 6145 ::ffff:0:a.b.c.d (IPv4-translated) and the RFC 6052 NAT64 well-known prefix: IPv4 in the low 32 bits.
  // The local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215) embeds it at a site-chosen position: it stays refused.
  if (ip.range() === 'rfc6145' || ip.match(NAT64_WELL_KNOWN)) return fromWords(parts[6], parts[7]);
  // RFC 3056 §2: 6to4 2002:AABB:CCDD::/48 routes to the relay at AA.BB.CC.DD.
  if (ip.range() === '6to4') return fromWords(parts[1], parts[2]);
  return undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export type GuardedLookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback) => void;

/** A `lookup` for http.request and http.Agent that only ever hands back allowed addresses. */
export function guardedLookup(allow: Allow): GuardedLookup {
  return (hostname, options, callback) => {
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

/**
 * Node connects to an IP-literal host without calling `lookup`, so a literal must be checked before the request.
 * Returns the refusal message, or undefined for a hostname or an allowed literal.
 */
export function refuseLiteral(hostname: string, allow: Allow): string | undefined {
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (!isIP(literal) || isAllowedAddress(literal, allow)) return undefined;
  return `${literal} is a private, loopback or link-local address: refused unless HUB_OUTBOUND_ALLOW lists it`;
}

/**
 * Why Node could not send a request to this URL, or undefined. WHATWG URL parsing is what both undici and Node
 * use, so a URL it rejects (an IPv6 zone id such as http://[fe80::1%25lo], a port over 65535) can never be
 * delivered to.
 */
export function urlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `url ${JSON.stringify(url)} cannot be parsed as a WHATWG URL (IPv6 zone ids such as %25eth0 are not supported)`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `url must be http or https, not ${parsed.protocol}`;
  if (!parsed.hostname) return 'url has no host';
  return undefined;
}

/** Creation-time check, for a clear 400 instead of a delivery that can never succeed. Unresolvable hosts pass. */
export async function checkTarget(url: string, allow: Allow): Promise<string | undefined> {
  const problem = urlProblem(url);
  if (problem) return problem;
  const { hostname } = new URL(url);
  const literal = refuseLiteral(hostname, allow);
  if (literal) return literal;
  const host = hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    guardedLookup(allow)(host, { all: true }, (err) => {
      resolve(err instanceof OutboundRefusedError ? err.message : undefined);
    });
  });
}
