import { isDatabaseUnavailable } from './database-unavailable';

/** Serialization failures and deadlocks: the same statement may well succeed when tried again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** ioredis and BullMQ say "Redis is not there right now" in words, not codes. */
const REDIS_UNAVAILABLE =
  /Connection is closed|Stream isn't writeable|Reached the max retries per request limit|did not answer within/i;

/**
 * Errors that say "a dependency is unavailable right now" (Postgres or Redis down, restarting, refusing
 * connections), as opposed to errors in the data. The pipeline retries the first and ends the work with a reason
 * on the second.
 */
export function isTransientError(err: unknown): boolean {
  if (isDatabaseUnavailable(err)) return true;
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && RETRYABLE_SQLSTATES.has(code)) return true;
  return typeof message === 'string' && REDIS_UNAVAILABLE.test(message);
}
