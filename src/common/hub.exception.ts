import { HttpStatus } from '@nestjs/common';

/**
 * Base of every typed error in the hub. Each module declares an error-code enum and maps it to an HTTP status
 * with an exhaustive switch (see e.g. ingest/ingest.exception.ts); the global filter renders the one shape.
 */
export abstract class HubException<Code extends string = string> extends Error {
  abstract readonly status: HttpStatus;
  /** Extra response headers, e.g. Retry-After on 503. */
  readonly headers: Record<string, string> = {};
  /** Structured detail rendered as `details` beside the message (e.g. a JSONata error's position). */
  details?: Record<string, unknown>;

  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
}

export function exhaustive(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
