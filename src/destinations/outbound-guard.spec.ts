import * as ipaddr from 'ipaddr.js';
import { checkTarget, isAllowedAddress } from './outbound-guard';
import { postJson } from './webhook.sender';

describe(isAllowedAddress.name, () => {
  const loopback: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [ipaddr.parseCIDR('127.0.0.0/8')];

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
    '::ffff:127.0.0.1',
  ])('refuses %s by default', (address) => {
    expect(isAllowedAddress(address, [])).toBe(false);
  });

  it('allows public unicast addresses', () => {
    expect(isAllowedAddress('93.184.216.34', [])).toBe(true);
    expect(isAllowedAddress('2606:2800:220:1:248:1893:25c8:1946', [])).toBe(true);
  });

  it('allows what HUB_OUTBOUND_ALLOW lists, and only that', () => {
    expect(isAllowedAddress('127.0.0.1', loopback)).toBe(true);
    expect(isAllowedAddress('::ffff:127.0.0.1', loopback)).toBe(true);
    expect(isAllowedAddress('10.0.0.1', loopback)).toBe(false);
  });
});

describe('outbound refusal at delivery time', () => {
  it('refuses an IP-literal loopback URL without sending (Node skips lookup for literals)', async () => {
    const result = await postJson('http://127.0.0.1:9/hook', {}, '{}', []);
    expect(result.refused).toBe(true);
    expect(result.statusCode).toBeUndefined();
    expect(result.error).toContain('HUB_OUTBOUND_ALLOW');
  });

  it('refuses a hostname that resolves to loopback', async () => {
    const result = await postJson('http://localhost:9/hook', {}, '{}', []);
    expect(result.refused).toBe(true);
    expect(result.error).toContain('localhost resolves to');
  });

  it('explains the refusal at creation time', async () => {
    expect(await checkTarget('http://localhost:9/x', [])).toContain('HUB_OUTBOUND_ALLOW');
    expect(await checkTarget('http://127.0.0.1:9/x', [ipaddr.parseCIDR('127.0.0.0/8')])).toBeUndefined();
  });
});
