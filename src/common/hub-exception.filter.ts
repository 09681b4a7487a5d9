import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from './logger';
import { HubException } from './hub.exception';
import { correlationIdOf } from './correlation';
import { isDatabaseUnavailable } from './database-unavailable';
import { ErrorResponse } from './error-response.dto';
import { loggableUrl } from './source-fingerprint';
import { MetricsService } from '../metrics/metrics.service';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Same as ingest's 503 (IngestException StoreUnavailable): long enough for a restart or failover. */
const DATABASE_RETRY_AFTER_SECONDS = '30';

/**
 * One response shape everywhere (DESIGN §7): `{statusCode, error, message, correlationId}`.
 * Unknown errors become a 500 that reveals nothing internal; the detail goes to the log only.
 */
@Catch()
export class HubExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly metrics: MetricsService,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const request = ctx.getRequest();
    const correlationId = correlationIdOf(request);
    const { status, message, headers } = this.describe(exception);
    // DESIGN §1: every ingest rejection is counted; 413 is raised by the body parser, before the ingest code runs.
    if (status === 413 && String(request?.url ?? '').startsWith('/hooks/')) {
      this.metrics.ingested.inc({ connector: '', outcome: 'rejected', reason: 'payload_too_large' });
    }
    if (status >= 500) {
      this.logger.error(
        // `error`, not `err`: pino's err serializer would label this plain object "Object". A Nest middleware
        // (the source lookup) sees the raw request, whose url middie stripped to "/"; originalUrl keeps it.
        {
          error: loggableError(exception),
          correlationId,
          method: request?.method,
          url: loggableUrl(request?.originalUrl ?? request?.url),
        },
        'request failed',
      );
    }
    const body: ErrorResponse = { statusCode: status, error: REASONS[status] ?? 'Error', message, correlationId };
    if (exception instanceof HubException && exception.details) body.details = exception.details;
    const response = ctx.getResponse();
    const raw = response.raw ?? response;
    if (!raw.headersSent) {
      for (const [name, value] of Object.entries({ ...headers, 'x-correlation-id': correlationId })) {
        raw.setHeader(name, value);
      }
    }
    this.adapterHost.httpAdapter.reply(response, body, status);
  }

  private describe(exception: unknown): { status: number; message: string; headers: Record<string, string> } {
    if (exception instanceof HubException) {
      return { status: exception.status, message: exception.message, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      const response = exception.getResponse();
      const message =
        typeof response === 'object' && response !== null && 'message' in response
          ? flatten((response as { message: unknown }).message)
          : exception.message;
      return { status: exception.getStatus(), message, headers: {} };
    }
    // Fastify's own errors (body too large, bad content type, malformed JSON) carry a 4xx statusCode.
    const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
    if (
      typeof fastifyError?.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      return { status: fastifyError.statusCode, message: fastifyMessage(fastifyError), headers: {} };
    }
    // Postgres unreachable or refusing connections is transient: 503 tells the client to come back, as ingest does
    // (DESIGN §6). The message is the same whatever the driver said, so nothing internal leaks.
    if (isDatabaseUnavailable(exception)) {
      return {
        status: HttpStatus.SERVICE_UNAVAILABLE,
        message: 'Storage is unavailable; retry later',
        headers: { 'retry-after': DATABASE_RETRY_AFTER_SECONDS },
      };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error', headers: {} };
  }
}

/**
 * The error without its enumerable extras: a TypeORM QueryFailedError carries `parameters` (source ids, raw
 * bodies, headers) and pg errors a `detail` with key values, none of which belong in a log.
 */
function loggableError(exception: unknown): Record<string, unknown> {
  if (!(exception instanceof Error)) return { type: typeof exception, message: String(exception) };
  const { code } = exception as { code?: unknown };
  return { type: exception.name, message: exception.message, code, stack: exception.stack };
}

function flatten(message: unknown): string {
  return Array.isArray(message) ? message.join('; ') : String(message);
}

function fastifyMessage(error: { statusCode?: number; code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than 1 MiB';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Content-Type must be application/json';
    default:
      return error.message ?? 'Bad request';
  }
}
