import { domainOf, normalizeEmail, normalizePhone, truncateForCrm } from './identity';

describe('CRM identity helpers', () => {
  it('normalises phones to E.164, or leaves them unmatched', () => {
    expect(normalizePhone('+90 555 555 55 55')).toBe('+905555555555');
    expect(normalizePhone('0090-555-555-5555')).toBe('+905555555555');
    expect(normalizePhone('(+1) 415.555.0100')).toBe('+14155550100');
    expect(normalizePhone('555 0100')).toBeUndefined();
    expect(normalizePhone(undefined)).toBeUndefined();
  });

  it('lower-cases emails and refuses what is not one', () => {
    expect(normalizeEmail(' Jane@Acme.COM ')).toBe('jane@acme.com');
    expect(normalizeEmail('jane')).toBeUndefined();
  });

  it('takes the domain of a website or an email', () => {
    expect(domainOf('https://www.Acme.com/about')).toBe('acme.com');
    expect(domainOf('jane@acme.co.uk')).toBe('acme.co.uk');
    expect(domainOf('not a domain')).toBeUndefined();
  });

  it('cuts long text to the limit and says so', () => {
    const cut = truncateForCrm('x'.repeat(70_000), 65_536);
    expect(cut.length).toBe(65_536);
    expect(cut).toMatch(/\[Switchboard: truncated from 70000 to 65536 characters\]$/);
    expect(truncateForCrm('short', 10)).toBe('short');
  });
});
