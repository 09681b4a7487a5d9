import { createHash } from 'node:crypto';
import { loggableUrl, sourceFingerprint } from './source-fingerprint';

const ID = 'src_4kT9zQpW2mXc7VbN8rLs1A';
const FP = createHash('sha256').update(ID).digest('hex').slice(0, 8);

describe(sourceFingerprint.name, () => {
  it('is the first 8 hex of the SHA-256 of the id', () => {
    expect(sourceFingerprint(ID)).toBe(FP);
    expect(FP).toMatch(/^[0-9a-f]{8}$/);
  });

  it('differs between ids', () => {
    expect(sourceFingerprint(`${ID}x`)).not.toBe(FP);
  });
});

describe(loggableUrl.name, () => {
  it.each([
    [`/hooks/${ID}`, `/hooks/~${FP}`],
    [`/hooks/${ID}?x=1`, `/hooks/~${FP}?x=1`],
    [`/hooks/${encodeURIComponent(ID).replace('s', '%73')}`, `/hooks/~${FP}`],
    [`/api/sources/${ID}`, `/api/sources/~${FP}`],
    [`/api/sources/${ID}/test`, `/api/sources/~${FP}/test`],
    [`/api/events?status=failed&sourceId=${ID}&limit=5`, `/api/events?status=failed&sourceId=~${FP}&limit=5`],
    ['/api/sources', '/api/sources'],
    ['/api/sources/', '/api/sources/'],
    ['/api/destinations/dst_1', '/api/destinations/dst_1'],
    ['/health', '/health'],
  ])('logs %s as %s', (url, expected) => {
    expect(loggableUrl(url)).toBe(expected);
  });

  it('never returns the id, even when it is not valid percent-encoding', () => {
    expect(loggableUrl('/hooks/%E0%A4%A')).toBe(`/hooks/~${sourceFingerprint('%E0%A4%A')}`);
  });

  it('passes undefined through', () => {
    expect(loggableUrl(undefined)).toBeUndefined();
  });
});
