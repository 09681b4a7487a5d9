import { REDACTED, redactHeaders } from './events.service';

describe(redactHeaders.name, () => {
  it('hides credential values, keeps signatures and ordinary headers', () => {
    const sut = redactHeaders(
      {
        authorization: 'Bearer x',
        cookie: 'a=b',
        'x-api-key': 'k',
        'x-webhook-token': 't',
        'x-client-secret': 's',
        'x-custom-auth': 'c',
        'svix-signature': 'v1,abc',
        'content-type': 'application/json',
      },
      'X-Custom-Auth',
    );
    expect(sut).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-api-key': REDACTED,
      'x-webhook-token': REDACTED,
      'x-client-secret': REDACTED,
      'x-custom-auth': REDACTED,
      'svix-signature': 'v1,abc',
      'content-type': 'application/json',
    });
  });
});
