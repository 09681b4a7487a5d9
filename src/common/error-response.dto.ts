import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/**
 * The one error body of the hub (DESIGN §7), as HubExceptionFilter renders it for every route. The filter builds
 * this type, so the document cannot drift from what clients receive.
 */
export class ErrorResponse {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found', description: 'The HTTP reason phrase of statusCode' })
  error!: string;

  @ApiProperty({ example: 'Source src_7Qk2mVbN4xHs9TzR1wLcPd not found', description: 'What went wrong, for humans' })
  message!: string;

  @ApiProperty({
    example: '01JF3Z8Q4N6V0X9C2B7M5K1H8D',
    description: 'Also in the x-correlation-id header and in the hub log; a caller X-Request-Id is used as given',
  })
  correlationId!: string;

  @ApiPropertyOptional({
    description: 'Structured detail of some errors, e.g. a JSONata error position or the failing canonical paths',
    example: { position: 14, token: '(' },
    type: 'object',
    additionalProperties: true,
  })
  details?: Record<string, unknown>;
}

/** The error statuses the hub documents; each with what it means on any route that declares it. */
export const ERROR_DESCRIPTIONS = {
  400: 'Invalid request: a field fails validation, an unknown property, or malformed JSON',
  401: 'Missing or wrong Authorization: Bearer <api key>',
  403: 'A console-session request that changes something lacks the x-csrf-token header of its session',
  404: 'No such resource',
  409: 'Conflicts with the current state',
  413: 'Body larger than 1 MiB',
  415: 'Content-Type is not application/json',
  422: 'Understood but not acceptable (see message and details)',
  503: 'Storage is unavailable; retry after the Retry-After header (seconds)',
} as const;

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/**
 * Documents error answers with the shared ErrorResponse schema. Give statuses for the standard wording, or an
 * object to say what a status means on this route: `@ApiErrors(400, { 404: 'No such source' })`.
 */
export function ApiErrors(...specs: (ErrorStatus | Partial<Record<ErrorStatus, string>>)[]) {
  const responses = new Map<ErrorStatus, string>();
  for (const spec of specs) {
    const entries = typeof spec === 'number' ? [[spec, ERROR_DESCRIPTIONS[spec]] as const] : Object.entries(spec);
    // A later spec wins: `ApiErrors(...BODY_ERRORS, { 400: 'what 400 means here' })`.
    for (const [status, description] of entries) responses.set(Number(status) as ErrorStatus, description);
  }
  return applyDecorators(
    ...[...responses].map(([status, description]) => ApiResponse({ status, description, type: ErrorResponse })),
  );
}

/** What a route taking a JSON body can answer before its own checks: invalid, too large, or not JSON at all. */
export const BODY_ERRORS: ErrorStatus[] = [400, 413, 415];
