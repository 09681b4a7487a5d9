import { ConfigError, DEFAULT_DESTINATION_DISABLE_AFTER_MS, DEFAULT_RETRY_SCHEDULE, loadConfig } from './hub-config';

/** The ConfigError thrown for env, or a failure when none is thrown. */
function configErrorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** The variable names a ConfigError message lists, one per problem line. */
function namedVariables(error: ConfigError): string[] {
  return error.message
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(':')[0]);
}

describe(loadConfig.name, () => {
  it('gives the documented defaults for an empty environment', () => {
    const sut = loadConfig({});
    expect(sut).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/switchboard',
      redisUrl: 'redis://127.0.0.1:6379',
      queuePrefix: 'switchboard',
      role: 'all',
      reconcileIntervalSeconds: 15,
      retentionDays: 30,
      destinationDisableAfterMs: 5 * 24 * 3600 * 1000,
      enrichmentTimeoutSeconds: 15,
      enrichmentRetryScheduleSeconds: [0, 5, 30, 120, 600],
      enrichmentConcurrency: 16,
      enrichmentSourceConcurrency: 4,
      enrichmentMaxBytes: 1024 * 1024,
      retryScheduleSeconds: [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
      outboundAllow: [],
      sessionTtlSeconds: 12 * 3600,
      logLevel: 'info',
      production: false,
    });
    expect(sut.consoleDir).toBeUndefined();
    expect(sut.apiKey).toBeUndefined();
    expect(sut.encryptionKey).toBeUndefined();
    expect(sut.publicUrl).toBeUndefined();
    expect(DEFAULT_RETRY_SCHEDULE).toEqual(sut.retryScheduleSeconds);
    expect(DEFAULT_DESTINATION_DISABLE_AFTER_MS).toBe(sut.destinationDisableAfterMs);
  });

  it.each([
    ['PORT', 'abc'],
    ['HOST', 'not a host'],
    ['HOST', 'http://0.0.0.0'],
    ['HUB_ROLE', 'boss'],
    ['HUB_RETRY_SCHEDULE', '1,x'],
    ['HUB_OUTBOUND_ALLOW', 'not-a-cidr'],
    ['HUB_ENCRYPTION_KEY', 'short'],
    ['DATABASE_URL', 'mysql://x'],
    ['HUB_RETENTION_DAYS', '0'],
    ['HUB_RETENTION_DAYS', 'forever'],
    ['HUB_DESTINATION_DISABLE_AFTER', '5 days'],
    ['HUB_DESTINATION_DISABLE_AFTER', '-1'],
    ['HUB_DESTINATION_DISABLE_AFTER', '2w'],
    ['HUB_DESTINATION_DISABLE_AFTER', '366d'],
  ])('rejects %s=%s with a ConfigError naming only that variable', (name, value) => {
    const error = configErrorFor({ [name]: value });
    expect(error.message).toMatch(/^Invalid configuration:\n/);
    expect(namedVariables(error)).toEqual([name]);
  });

  it('names the bad CIDR itself', () => {
    expect(configErrorFor({ HUB_OUTBOUND_ALLOW: '127.0.0.0/8, not-a-cidr' }).message).toContain(
      'HUB_OUTBOUND_ALLOW: "not-a-cidr" is not a CIDR',
    );
  });

  it('names every bad variable at once', () => {
    const error = configErrorFor({ PORT: 'abc', HUB_ROLE: 'boss' });
    expect(namedVariables(error).sort()).toEqual(['HUB_ROLE', 'PORT']);
  });

  it('parses HUB_OUTBOUND_ALLOW into CIDR entries', () => {
    const sut = loadConfig({ HUB_OUTBOUND_ALLOW: '127.0.0.0/8, ::1/128' });
    expect(sut.outboundAllow).toHaveLength(2);
    expect(sut.outboundAllow.map(([ip, bits]) => `${ip.toString()}/${bits}`)).toEqual(['127.0.0.0/8', '::1/128']);
  });

  it('treats a bare address in HUB_OUTBOUND_ALLOW as a host CIDR', () => {
    const sut = loadConfig({ HUB_OUTBOUND_ALLOW: '10.0.0.5' });
    expect(sut.outboundAllow.map(([ip, bits]) => `${ip.toString()}/${bits}`)).toEqual(['10.0.0.5/32']);
  });

  it('parses HUB_RETRY_SCHEDULE with spaces', () => {
    expect(loadConfig({ HUB_RETRY_SCHEDULE: '0, 5 ,300' }).retryScheduleSeconds).toEqual([0, 5, 300]);
  });

  it('decodes a 32-byte base64 HUB_ENCRYPTION_KEY', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ HUB_ENCRYPTION_KEY: key.toString('base64') }).encryptionKey).toEqual(key);
  });

  it('treats an empty-string variable as unset, so the default applies', () => {
    const sut = loadConfig({
      PORT: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      HUB_ROLE: '',
      HUB_RETRY_SCHEDULE: '',
      HUB_OUTBOUND_ALLOW: '',
      HUB_ENCRYPTION_KEY: '',
      HUB_RECONCILE_INTERVAL: '',
    });
    expect(sut).toEqual(loadConfig({}));
  });

  it('reads explicit values', () => {
    const sut = loadConfig({
      PORT: '8080',
      HUB_ROLE: 'worker',
      HUB_RECONCILE_INTERVAL: '60',
      HUB_QUEUE_PREFIX: 'sb-test',
      HUB_PUBLIC_URL: 'https://hub.example.com//',
      HUB_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      NODE_ENV: 'production',
    });
    expect(sut).toMatchObject({
      port: 8080,
      role: 'worker',
      reconcileIntervalSeconds: 60,
      queuePrefix: 'sb-test',
      publicUrl: 'https://hub.example.com',
      production: true,
    });
  });

  it.each(['0.0.0.0', '::', '::1', '10.1.2.3', 'localhost', 'hub.internal'])('accepts HOST=%s', (host) => {
    expect(loadConfig({ HOST: ` ${host} ` }).host).toBe(host);
  });

  it('refuses production without HUB_ENCRYPTION_KEY, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /HUB_ENCRYPTION_KEY: required when NODE_ENV=production/,
    );
  });

  it('reads HUB_RETENTION_DAYS', () => {
    expect(loadConfig({ HUB_RETENTION_DAYS: '7' }).retentionDays).toBe(7);
  });

  it.each([
    ['120', 120 * 3600_000],
    ['1.5', 1.5 * 3600_000],
    ['5d', 5 * 86_400_000],
    ['36h', 36 * 3600_000],
    ['90m', 90 * 60_000],
    [' 30 s ', 30_000],
    ['1500ms', 1500],
    ['0', 0],
  ])('reads HUB_DESTINATION_DISABLE_AFTER=%s (hours when bare, 0 turns it off)', (value, ms) => {
    expect(loadConfig({ HUB_DESTINATION_DISABLE_AFTER: value }).destinationDisableAfterMs).toBe(ms);
  });
});
