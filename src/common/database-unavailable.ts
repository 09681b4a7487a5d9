/**
 * SQLSTATEs meaning "the database cannot serve you right now", not "your query is wrong"
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
  '08P01', // protocol_violation (a connection cut mid-message)
  '3D000', // invalid_catalog_name: the database is gone (dropped or not yet restored)
  '53300', // too_many_connections
  '57P01', // admin_shutdown: backend terminated (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, recovering
]);

/** 55000 is object_not_in_prerequisite_state, used for many things; only this message means an outage. */
const NOT_ACCEPTING_CONNECTIONS = /is not currently accepting connections|does not allow connections/i;

/** Socket-level failures reaching Postgres (node's errno codes). */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres and pg-pool raise these as plain Errors, with no code. */
const DRIVER_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Connection terminated due to connection timeout)/i;

/**
 * True when an error (a TypeORM QueryFailedError, a raw pg error, or one wrapping either as `driverError` or
 * `cause`) means Postgres is unreachable or refusing connections: the caller should retry later, so it is a 503.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Iterative walk over the error and what it wraps; `seen` stops an error that refers back to itself.
  const pending: unknown[] = [error];
  const seen = new Set<unknown>();
  while (pending.length) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string') {
      if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
      if (code === '55000' && typeof message === 'string' && NOT_ACCEPTING_CONNECTIONS.test(message)) return true;
    }
    if (typeof message === 'string' && DRIVER_MESSAGES.test(message)) return true;
    pending.push(driverError, cause);
  }
  return false;
}
