import * as ipaddr from 'ipaddr.js';
import { checkTarget, isAllowedAddress, refuseLiteral, urlProblem } from './outbound-guard';

describe(isAllowedAddress.name, () => {
  const loopback: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('127.0.0.0/8')];
  const linkLocal: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('169.254.0.0/16')];

  it.each([
    '127.0.0.1',
    '10.0.0.5',
    '172.16.3.4',
    '192.168.1.1',
    '169.254.169.254',
    '::1',
    'fe80::1',
    'fc00::1',
    '0.0.0.0',
    '::',
    '::ffff:127.0.0.1',
  ])('refuses %s by default', (address) => {
    expect(isAllowedAddress(address, [])).toBe(false);
  });

  it.each([
    // IPv4-compatible (RFC 4291 §2.5.5.1): what the URL parser makes of [::127.0.0.1], and the metadata address
    ['::7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::a9fe:a9fe', 'link-local 169.254.169.254'],
    ['::a00:5', 'private 10.0.0.5'],
    ['::0.0.0.2', '0.0.0.0/8'],
    // IPv4-translated (RFC 6145)
    ['::ffff:0:7f00:1', 'loopback'],
    // NAT64 well-known prefix (RFC 6052)
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::c0a8:101', 'private 192.168.1.1'],
    // 6to4 (RFC 3056)
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:a00:5::1', 'private 10.0.0.5'],
    // local-use NAT64 (RFC 8215) places the IPv4 address where the site chooses: refused outright
    ['64:ff9b:1::808:808', 'local-use NAT64'],
  ])('refuses %s, an IPv6 form of a %s IPv4 address', (address) => {
    expect(isAllowedAddress(address, [])).toBe(false);
  });

  it.each(['::808:808', '64:ff9b::808:808', '2002:808:808::1', '::ffff:0:808:808'])(
    'allows %s, which embeds the public 8.8.8.8',
    (address) => {
      expect(isAllowedAddress(address, [])).toBe(true);
    },
  );

  it('allows public unicast addresses', () => {
    expect(isAllowedAddress('93.184.216.34', [])).toBe(true);
    expect(isAllowedAddress('2606:2800:220:1:248:1893:25c8:1946', [])).toBe(true);
  });

  it('allows what HUB_OUTBOUND_ALLOW lists, and only that', () => {
    expect(isAllowedAddress('127.0.0.1', loopback)).toBe(true);
    expect(isAllowedAddress('::ffff:127.0.0.1', loopback)).toBe(true);
    expect(isAllowedAddress('10.0.0.1', loopback)).toBe(false);
  });

  it('applies HUB_OUTBOUND_ALLOW to the embedded IPv4 address too', () => {
    expect(isAllowedAddress('::7f00:1', loopback)).toBe(true);
    expect(isAllowedAddress('64:ff9b::7f00:1', loopback)).toBe(true);
    expect(isAllowedAddress('::a9fe:a9fe', linkLocal)).toBe(true);
    expect(isAllowedAddress('::a9fe:a9fe', loopback)).toBe(false);
    expect(isAllowedAddress('64:ff9b::7f00:1', [ipaddr.parseCIDR('64:ff9b::/96')])).toBe(true);
  });
});

describe(refuseLiteral.name, () => {
  it('refuses a bracketed IPv6 literal as the URL parser spells it', () => {
    expect(refuseLiteral(new URL('http://[::127.0.0.1]/').hostname, [])).toContain('HUB_OUTBOUND_ALLOW');
    expect(refuseLiteral('[::a9fe:a9fe]', [])).toContain('::a9fe:a9fe');
  });

  it('leaves hostnames and allowed literals to the lookup', () => {
    expect(refuseLiteral('example.com', [])).toBeUndefined();
    expect(refuseLiteral('93.184.216.34', [])).toBeUndefined();
  });
});

describe(urlProblem.name, () => {
  it.each(['http://[fe80::1%25lo]/x', 'http://[fe80::1%lo]/x', 'http://example.com:99999/', 'not a url'])(
    'explains %s, which Node cannot send to',
    (url) => {
      expect(urlProblem(url)).toContain('cannot be parsed');
    },
  );

  it('refuses other schemes', () => {
    expect(urlProblem('ftp://example.com/')).toContain('http or https');
  });

  it('accepts http and https URLs', () => {
    expect(urlProblem('https://example.com/hook')).toBeUndefined();
    expect(urlProblem('http://[2606:2800:220:1::1]:8080/x')).toBeUndefined();
  });
});

describe(checkTarget.name, () => {
  it('explains the refusal at creation time', async () => {
    expect(await checkTarget('http://localhost:9/x', [])).toContain('HUB_OUTBOUND_ALLOW');
    expect(await checkTarget('http://127.0.0.1:9/x', [ipaddr.parseCIDR('127.0.0.0/8')])).toBeUndefined();
  });

  it('refuses IPv4-compatible IPv6 literals', async () => {
    expect(await checkTarget('http://[::127.0.0.1]:9/x', [])).toContain('HUB_OUTBOUND_ALLOW');
    expect(await checkTarget('http://[::a9fe:a9fe]/latest/meta-data', [])).toContain('HUB_OUTBOUND_ALLOW');
  });

  it('answers an unparseable URL instead of throwing', async () => {
    expect(await checkTarget('http://[fe80::1%25lo]/x', [])).toContain('cannot be parsed');
  });
});
