import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { DEFAULT_TOKEN_HEADER, HeaderTokenVerifier } from './header-token.verifier';
import { HmacSha256Verifier } from './hmac-sha256.verifier';
import { StandardWebhooksVerifier } from './standard-webhooks.verifier';
import { UrlTokenVerifier } from './url-token.verifier';
import { VerificationError, VerificationFailure, VerifyInput } from './verifier';

/** The failure reason, or undefined when verification passed. Anything but a VerificationError is rethrown. */
function reasonOf(verify: () => void): VerificationFailure | undefined {
  try {
    verify();
  } catch (err) {
    if (err instanceof VerificationError) return err.reason;
    throw err;
  }
  return undefined;
}

function input(overrides: Partial<VerifyInput>): VerifyInput {
  return {
    rawBody: Buffer.from('{}'),
    headers: {},
    remoteAddress: '127.0.0.1',
    secrets: [],
    settings: {},
    ...overrides,
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const whsec = () => 'whsec_' + randomBytes(24).toString('base64');

describe(StandardWebhooksVerifier.name, () => {
  const sut = new StandardWebhooksVerifier();
  const body = Buffer.from('{"type":"meeting.completed","data":{"id":"m_1"}}');
  const msgId = 'msg_2b1a';

  type Prefix = 'svix' | 'webhook';

  function headers(prefix: Prefix, timestamp: number, signature: string): IncomingHttpHeaders {
    return {
      [`${prefix}-id`]: msgId,
      [`${prefix}-timestamp`]: String(timestamp),
      [`${prefix}-signature`]: signature,
    };
  }

  function svixSigned(secret: string, prefix: Prefix = 'svix', timestamp = nowSeconds(), payload = body) {
    const signature = new SvixWebhook(secret).sign(msgId, new Date(timestamp * 1000), payload.toString());
    return headers(prefix, timestamp, signature);
  }

  function standardSigned(secret: string, prefix: Prefix = 'webhook', timestamp = nowSeconds(), payload = body) {
    const signature = new StandardWebhook(secret).sign(msgId, new Date(timestamp * 1000), payload.toString());
    return headers(prefix, timestamp, signature);
  }

  describe('valid signature', () => {
    it.each<Prefix>(['svix', 'webhook'])('passes a svix-library signature sent with %s-* headers', (prefix) => {
      const secret = whsec();
      expect(
        reasonOf(() => sut.verify(input({ rawBody: body, headers: svixSigned(secret, prefix), secrets: [secret] }))),
      ).toBeUndefined();
    });

    it.each<Prefix>(['svix', 'webhook'])(
      'passes a standardwebhooks-library signature sent with %s-* headers',
      (prefix) => {
        const secret = whsec();
        expect(
          reasonOf(() =>
            sut.verify(input({ rawBody: body, headers: standardSigned(secret, prefix), secrets: [secret] })),
          ),
        ).toBeUndefined();
      },
    );

    it('passes when only the second of several space-separated signatures matches', () => {
      const secret = whsec();
      const ts = nowSeconds();
      const other = new SvixWebhook(whsec()).sign(msgId, new Date(ts * 1000), body.toString());
      const right = new SvixWebhook(secret).sign(msgId, new Date(ts * 1000), body.toString());
      expect(other).not.toBe(right);
      const result = reasonOf(() =>
        sut.verify(input({ rawBody: body, headers: headers('svix', ts, `${other} ${right}`), secrets: [secret] })),
      );
      expect(result).toBeUndefined();
    });
  });

  describe('wrong signature', () => {
    it('fails a delivery signed with another secret with bad_signature', () => {
      const result = reasonOf(() =>
        sut.verify(input({ rawBody: body, headers: svixSigned(whsec()), secrets: [whsec()] })),
      );
      expect(result).toBe('bad_signature');
    });

    it('fails when the body changed by one byte with bad_signature', () => {
      const secret = whsec();
      const tampered = Buffer.from(body);
      tampered[tampered.length - 3] ^= 0x01;
      expect(tampered.equals(body)).toBe(false);
      expect(
        reasonOf(() => sut.verify(input({ rawBody: tampered, headers: svixSigned(secret), secrets: [secret] }))),
      ).toBe('bad_signature');
    });

    it('fails a signature of a different version with bad_signature', () => {
      const secret = whsec();
      const ts = nowSeconds();
      const v1 = new SvixWebhook(secret).sign(msgId, new Date(ts * 1000), body.toString());
      const v2 = v1.replace(/^v1,/, 'v2,');
      expect(
        reasonOf(() => sut.verify(input({ rawBody: body, headers: headers('svix', ts, v2), secrets: [secret] }))),
      ).toBe('bad_signature');
    });

    it('fails a body that is not UTF-8, so an altered invalid byte cannot hide behind U+FFFD', () => {
      const secret = whsec();
      const ts = nowSeconds();
      const signed = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
      const altered = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xfe, 0x22, 0x7d]);
      const signature = new SvixWebhook(secret).sign(msgId, new Date(ts * 1000), signed.toString());
      expect(
        reasonOf(() =>
          sut.verify(input({ rawBody: altered, headers: headers('svix', ts, signature), secrets: [secret] })),
        ),
      ).toBe('bad_signature');
    });
  });

  describe('stale timestamp', () => {
    it('fails a correctly signed delivery older than 300 s with stale_timestamp', () => {
      const secret = whsec();
      const signed = svixSigned(secret, 'svix', nowSeconds() - 301);
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: signed, secrets: [secret] })))).toBe(
        'stale_timestamp',
      );
    });

    it('fails a correctly signed delivery more than 300 s in the future with stale_timestamp', () => {
      const secret = whsec();
      // nowSeconds() floors, so +301 can be only 300.x s ahead by the time verify runs: use a clear margin.
      const signed = svixSigned(secret, 'webhook', nowSeconds() + 305);
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: signed, secrets: [secret] })))).toBe(
        'stale_timestamp',
      );
    });

    it('accepts a 400-s-old delivery when toleranceSeconds is 600, and rejects it at the default', () => {
      const secret = whsec();
      const signed = svixSigned(secret, 'svix', nowSeconds() - 400);
      expect(
        reasonOf(() =>
          sut.verify(input({ rawBody: body, headers: signed, secrets: [secret], settings: { toleranceSeconds: 600 } })),
        ),
      ).toBeUndefined();
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: signed, secrets: [secret] })))).toBe(
        'stale_timestamp',
      );
    });

    it('fails a timestamp that is not unix seconds with bad_timestamp', () => {
      const secret = whsec();
      const signed = { ...svixSigned(secret), 'svix-timestamp': new Date().toISOString() };
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: signed, secrets: [secret] })))).toBe(
        'bad_timestamp',
      );
    });
  });

  describe('missing header', () => {
    it.each(['svix-id', 'svix-timestamp', 'svix-signature'])('fails without %s with missing_header', (name) => {
      const secret = whsec();
      const signed = svixSigned(secret);
      delete signed[name];
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: signed, secrets: [secret] })))).toBe(
        'missing_header',
      );
    });

    it('fails with no headers at all with missing_header', () => {
      expect(reasonOf(() => sut.verify(input({ rawBody: body, secrets: [whsec()] })))).toBe('missing_header');
    });
  });

  describe('rotated secret', () => {
    const oldSecret = whsec();
    const newSecret = whsec();
    const secrets = [oldSecret, newSecret];

    it('passes a delivery signed with the old secret', () => {
      expect(
        reasonOf(() => sut.verify(input({ rawBody: body, headers: svixSigned(oldSecret), secrets }))),
      ).toBeUndefined();
    });

    it('passes a delivery signed with the new secret', () => {
      expect(
        reasonOf(() => sut.verify(input({ rawBody: body, headers: standardSigned(newSecret), secrets }))),
      ).toBeUndefined();
    });

    it('fails a delivery signed with an unrelated secret with bad_signature', () => {
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers: svixSigned(whsec()), secrets })))).toBe(
        'bad_signature',
      );
    });
  });

  describe('validate', () => {
    it('accepts a whsec_ secret', () => {
      expect(sut.validate({}, [whsec()])).toEqual([]);
    });

    it('rejects bad base64 after the whsec_ prefix', () => {
      expect(sut.validate({}, ['whsec_!!!not-base64'])).toEqual([
        'secrets: each secret must be a whsec_ secret (base64 after the prefix)',
      ]);
    });

    it('rejects a secret that is neither whsec_-prefixed nor base64', () => {
      expect(sut.validate({}, ['plain-secret-no-prefix'])).toEqual([
        'secrets: each secret must be a whsec_ secret (base64 after the prefix)',
      ]);
    });

    it('rejects a secret without the whsec_ prefix even when it is valid base64', () => {
      expect(sut.validate({}, ['abcd1234'])).toEqual([
        'secrets: each secret must be a whsec_ secret (base64 after the prefix)',
      ]);
    });

    it('requires at least one secret', () => {
      expect(sut.validate({}, [])).toEqual(['secrets: a standard-webhooks source needs its whsec_ signing secret']);
    });

    it('rejects a toleranceSeconds outside 1..86400', () => {
      expect(sut.validate({ toleranceSeconds: 0 }, [whsec()])).toEqual([
        'verification.toleranceSeconds: must be a number of seconds between 1 and 86400',
      ]);
    });
  });
});

describe(HmacSha256Verifier.name, () => {
  const sut = new HmacSha256Verifier();
  const settings = { header: 'X-Asan-Signature' };
  const body = Buffer.from('{"event":"call.finished","id":42}');
  const secret = 'asan-shared-secret-1';

  const hmac = (key: string, content: Buffer | string) => createHmac('sha256', key).update(content);
  const signedWith = (signature: string): IncomingHttpHeaders => ({ 'x-asan-signature': signature });

  describe('valid signature', () => {
    it.each([
      ['hex', () => hmac(secret, body).digest('hex')],
      ['upper-case hex', () => hmac(secret, body).digest('hex').toUpperCase()],
      ['base64', () => hmac(secret, body).digest('base64')],
      ['url-safe base64', () => hmac(secret, body).digest('base64url')],
      ['sha256=-prefixed hex', () => 'sha256=' + hmac(secret, body).digest('hex')],
    ])('passes a %s signature', (_, signature) => {
      expect(
        reasonOf(() =>
          sut.verify(input({ rawBody: body, headers: signedWith(signature()), secrets: [secret], settings })),
        ),
      ).toBeUndefined();
    });

    it('reads X-Signature when no header is configured', () => {
      const headers = { 'x-signature': hmac(secret, body).digest('hex') };
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret] })))).toBeUndefined();
    });
  });

  describe('wrong signature', () => {
    it('fails a signature made with another secret with bad_signature', () => {
      const headers = signedWith(hmac('some-other-secret', body).digest('hex'));
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings })))).toBe(
        'bad_signature',
      );
    });

    it('fails a signature over a different body with bad_signature', () => {
      const headers = signedWith(hmac(secret, body).digest('hex'));
      const tampered = Buffer.from(body.toString().replace('42', '43'));
      expect(reasonOf(() => sut.verify(input({ rawBody: tampered, headers, secrets: [secret], settings })))).toBe(
        'bad_signature',
      );
    });

    it('fails a value that is neither hex nor base64 with bad_signature', () => {
      expect(
        reasonOf(() =>
          sut.verify(input({ rawBody: body, headers: signedWith('not-a-signature'), secrets: [secret], settings })),
        ),
      ).toBe('bad_signature');
    });
  });

  describe('missing header', () => {
    it('fails without the configured header with missing_header naming it', () => {
      const headers = { 'x-signature': hmac(secret, body).digest('hex') };
      expect(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings }))).toThrow(
        'Missing X-Asan-Signature header',
      );
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings })))).toBe(
        'missing_header',
      );
    });
  });

  describe('stale timestamp (only with settings.timestampHeader)', () => {
    const timed = { ...settings, timestampHeader: 'X-Asan-Timestamp' };
    const timedHeaders = (ts: number, key = secret): IncomingHttpHeaders => ({
      'x-asan-signature': hmac(key, `${ts}.${body.toString()}`).digest('hex'),
      'x-asan-timestamp': String(ts),
    });

    it('passes a fresh timestamp signed as `${ts}.${body}`', () => {
      expect(
        reasonOf(() =>
          sut.verify(input({ rawBody: body, headers: timedHeaders(nowSeconds()), secrets: [secret], settings: timed })),
        ),
      ).toBeUndefined();
    });

    it('fails a 10-minute-old timestamp with stale_timestamp', () => {
      const headers = timedHeaders(nowSeconds() - 600);
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings: timed })))).toBe(
        'stale_timestamp',
      );
    });

    it('fails without the timestamp header with missing_header naming it', () => {
      const headers = timedHeaders(nowSeconds());
      delete headers['x-asan-timestamp'];
      expect(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings: timed }))).toThrow(
        'Missing X-Asan-Timestamp header',
      );
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings: timed })))).toBe(
        'missing_header',
      );
    });

    it('binds the timestamp: a signature over the body alone fails with bad_signature', () => {
      const headers = {
        'x-asan-signature': hmac(secret, body).digest('hex'),
        'x-asan-timestamp': String(nowSeconds()),
      };
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings: timed })))).toBe(
        'bad_signature',
      );
    });

    it('ignores time when no timestampHeader is configured', () => {
      jest.useFakeTimers().setSystemTime(new Date('2099-01-01T00:00:00Z'));
      try {
        const headers = signedWith(hmac(secret, body).digest('hex'));
        expect(
          reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets: [secret], settings }))),
        ).toBeUndefined();
      } finally {
        jest.useRealTimers();
      }
    });
  });

  describe('rotated secret', () => {
    const secrets = ['asan-old-secret', 'asan-new-secret'];

    it('passes a delivery signed with the old secret', () => {
      const headers = signedWith(hmac('asan-old-secret', body).digest('hex'));
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets, settings })))).toBeUndefined();
    });

    it('passes a delivery signed with the new secret', () => {
      const headers = signedWith(hmac('asan-new-secret', body).digest('base64'));
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets, settings })))).toBeUndefined();
    });

    it('fails a delivery signed with an unrelated secret with bad_signature', () => {
      const headers = signedWith(hmac('asan-unrelated-secret', body).digest('hex'));
      expect(reasonOf(() => sut.verify(input({ rawBody: body, headers, secrets, settings })))).toBe('bad_signature');
    });
  });
});

describe(HeaderTokenVerifier.name, () => {
  const sut = new HeaderTokenVerifier();
  const token = 'tok_9f2c1e7d44';

  it('defaults to the X-Webhook-Token header', () => {
    expect(DEFAULT_TOKEN_HEADER).toBe('X-Webhook-Token');
    expect(
      reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': token }, secrets: [token] }))),
    ).toBeUndefined();
  });

  it('reads a custom header from settings.header', () => {
    const settings = { header: 'X-Salescaling-Token' };
    expect(
      reasonOf(() => sut.verify(input({ headers: { 'x-salescaling-token': token }, secrets: [token], settings }))),
    ).toBeUndefined();
    expect(
      reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': token }, secrets: [token], settings }))),
    ).toBe('missing_header');
  });

  it('accepts the `Bearer <token>` form', () => {
    expect(
      reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': `Bearer ${token}` }, secrets: [token] }))),
    ).toBeUndefined();
  });

  it('fails a wrong token with bad_token', () => {
    expect(reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': 'tok_wrong' }, secrets: [token] })))).toBe(
      'bad_token',
    );
  });

  it('fails a token that only shares a prefix with bad_token', () => {
    expect(
      reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': token.slice(0, -1) }, secrets: [token] }))),
    ).toBe('bad_token');
  });

  it('fails a missing header with missing_header naming it', () => {
    expect(() => sut.verify(input({ secrets: [token] }))).toThrow('Missing X-Webhook-Token header');
    expect(reasonOf(() => sut.verify(input({ secrets: [token] })))).toBe('missing_header');
  });

  describe('rotated secret', () => {
    const secrets = ['tok_old_1234', 'tok_new_5678'];

    it('passes the old token', () => {
      expect(
        reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': 'tok_old_1234' }, secrets }))),
      ).toBeUndefined();
    });

    it('passes the new token', () => {
      expect(
        reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': 'tok_new_5678' }, secrets }))),
      ).toBeUndefined();
    });

    it('fails an unrelated token with bad_token', () => {
      expect(reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': 'tok_other_999' }, secrets })))).toBe(
        'bad_token',
      );
    });
  });

  it('has no timestamp, so a stale replay is not rejected here: replays are absorbed by the dedup key instead', () => {
    jest.useFakeTimers().setSystemTime(new Date('2099-01-01T00:00:00Z'));
    try {
      expect(
        reasonOf(() => sut.verify(input({ headers: { 'x-webhook-token': token }, secrets: [token] }))),
      ).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});

describe(UrlTokenVerifier.name, () => {
  const sut = new UrlTokenVerifier();
  const settings = { ipAllow: ['10.0.0.0/8'] };

  it('passes any sender when no ipAllow is configured', () => {
    expect(reasonOf(() => sut.verify(input({ remoteAddress: '203.0.113.9' })))).toBeUndefined();
  });

  it('passes a sender inside an allowed CIDR', () => {
    expect(reasonOf(() => sut.verify(input({ remoteAddress: '10.1.2.3', settings })))).toBeUndefined();
  });

  it('passes an IPv4-mapped IPv6 sender inside an allowed IPv4 CIDR', () => {
    expect(reasonOf(() => sut.verify(input({ remoteAddress: '::ffff:10.1.2.3', settings })))).toBeUndefined();
  });

  it('fails a sender outside the allowed CIDRs with ip_not_allowed', () => {
    expect(reasonOf(() => sut.verify(input({ remoteAddress: '192.168.1.1', settings })))).toBe('ip_not_allowed');
  });

  it('fails an unparseable sender address with ip_not_allowed', () => {
    expect(reasonOf(() => sut.verify(input({ remoteAddress: 'not-an-ip', settings })))).toBe('ip_not_allowed');
  });

  it('has no header, timestamp or secret to check: missing-header, stale and rotation cases do not apply', () => {
    jest.useFakeTimers().setSystemTime(new Date('2099-01-01T00:00:00Z'));
    try {
      expect(reasonOf(() => sut.verify(input({ headers: {}, secrets: [], settings: {} })))).toBeUndefined();
      expect(
        reasonOf(() => sut.verify(input({ headers: {}, secrets: ['a', 'b'], remoteAddress: '10.9.9.9', settings }))),
      ).toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });
});
