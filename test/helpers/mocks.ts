import pino from 'pino';
import { loadConfig } from '../../src/config/hub-config';

/** A typed mock (STYLE habit 6): only the methods a test gives exist, each a jest.fn, typed as the real class. */
export function mockOf<T>(methods: { [K in keyof T]?: jest.Mock } = {}): jest.Mocked<T> {
  return methods as unknown as jest.Mocked<T>;
}

export const silentLogger = pino({ level: 'silent' });

/** The default configuration, with overrides, as the hub would load it from the environment. */
export const testConfig = (env: Record<string, string> = {}) => loadConfig({ HUB_API_KEY: 'k'.repeat(16), ...env });

/** MetricsService's counters, without prom-client's global registry. */
export function mockMetrics() {
  return {
    normalized: { inc: jest.fn() },
    deliveryAttempts: { inc: jest.fn() },
    deliveryDuration: { observe: jest.fn() },
    enrichmentAttempts: { inc: jest.fn() },
    enrichmentFailed: { inc: jest.fn() },
  };
}
