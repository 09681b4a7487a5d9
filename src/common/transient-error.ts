/**
 * Errors that say "a dependency is unavailable right now" (Postgres or Redis down, restarting, refusing
 * connections), as opposed to errors in the data. The first are retried; the second end the work with a reason.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '53300', // too_many_connections
  '55000', // object_not_in_prerequisite_state, e.g. a database that does not allow connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '3D000', // invalid_catalog_name: the database is being recreated
]);

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection is closed/i,
  /stream isn't writeable/i,
  /not allow connections/i,
  /did not answer within/i,
  /Client has encountered a connection error/i,
];

export function isTransientError(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
    e && depth < 4;
    depth++
  ) {
    if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || e.code.startsWith('08'))) return true;
    if (typeof e.message === 'string' && TRANSIENT_MESSAGES.some((pattern) => pattern.test(e!.message as string))) {
      return true;
    }
    e = ((e as { driverError?: unknown }).driverError as typeof e) ?? (e.cause as typeof e);
  }
  return false;
}
