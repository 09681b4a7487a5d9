import { hotPoolOptions } from './prepared';

describe(hotPoolOptions.name, () => {
  it('plans each statement once per connection, never as a sequential scan', () => {
    expect(hotPoolOptions('postgres://postgres@127.0.0.1:5432/switchboard')).toBe(
      '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off',
    );
  });

  it("keeps the URL's own connection options, before its own", () => {
    const url = 'postgres://postgres@127.0.0.1:5432/switchboard?options=-c%20statement_timeout%3D5000';
    expect(hotPoolOptions(url)).toBe(
      '-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan -c enable_seqscan=off',
    );
  });
});
