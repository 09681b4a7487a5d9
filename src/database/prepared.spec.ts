import { hubPoolOptions } from './prepared';

describe(hubPoolOptions.name, () => {
  it('plans every execution of a prepared statement afresh', () => {
    expect(hubPoolOptions('postgres://postgres@127.0.0.1:5432/switchboard')).toBe(
      '-c plan_cache_mode=force_custom_plan',
    );
  });

  it("keeps the URL's own connection options, before its own", () => {
    const url = 'postgres://postgres@127.0.0.1:5432/switchboard?options=-c%20statement_timeout%3D5000';
    expect(hubPoolOptions(url)).toBe('-c statement_timeout=5000 -c plan_cache_mode=force_custom_plan');
  });
});
