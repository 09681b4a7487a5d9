import type { OutboundResult } from '../../../outbound/outbound.client';
import { OutboundErrorCode } from '../../../outbound/outbound.client';

/** Why a Pipedrive call produced no usable answer (STYLE habit 4: one enum, one exhaustive switch). */
export enum PipedriveErrorCode {
  /** 429: the token budget of the company is spent; `retry-after` says for how long. */
  RateLimited = 'rate_limited',
  /** 5xx: Pipedrive's side; worth a retry (and, for a write, ambiguous: it may have applied). */
  Server = 'server',
  /** No answer: DNS, connect, a connection dropped mid-answer. Ambiguous for a write. */
  Network = 'network',
  /** The attempt's deadline passed with no complete answer. Ambiguous for a write. */
  TimedOut = 'timed_out',
  /** 400/422: the request is wrong (a missing name, a bad date). Retrying sends the same request. */
  Validation = 'validation',
  /** 404: the record or route does not exist (a person deleted in Pipedrive). */
  NotFound = 'not_found',
  /** 401: the API token is wrong or revoked. */
  Unauthorized = 'unauthorized',
  /** 402/403: the plan or the user's permissions forbid it. */
  Forbidden = 'forbidden',
  /** The hub would not send it: SSRF guard, bad URL or header. */
  Refused = 'refused',
  /** Anything else (3xx, since redirects are not followed; a 2xx that is not Pipedrive's JSON). */
  Unexpected = 'unexpected',
}

export interface PipedriveError {
  code: PipedriveErrorCode;
  /** Pipedrive's own message (`error` + `error_info`) where it gave one. */
  message: string;
  statusCode?: number;
  /** Retry-After in ms (429), when given. */
  afterMs?: number;
  durationMs: number;
  /** The answer as received (capped), for the attempt log. */
  body?: string;
}

/** Errors worth another attempt: the same request can succeed later. */
export function isRetryable(code: PipedriveErrorCode): boolean {
  switch (code) {
    case PipedriveErrorCode.RateLimited:
    case PipedriveErrorCode.Server:
    case PipedriveErrorCode.Network:
    case PipedriveErrorCode.TimedOut:
      return true;
    case PipedriveErrorCode.Validation:
    case PipedriveErrorCode.NotFound:
    case PipedriveErrorCode.Unauthorized:
    case PipedriveErrorCode.Forbidden:
    case PipedriveErrorCode.Refused:
    case PipedriveErrorCode.Unexpected:
      return false;
  }
}

/**
 * A write that ended this way may have been applied by Pipedrive (issue 8: apply-then-drop), so before creating the
 * record again the adapter must look it up by its markers. A 429 and 4xx never applied.
 */
export function isAmbiguous(code: PipedriveErrorCode): boolean {
  return (
    code === PipedriveErrorCode.Network || code === PipedriveErrorCode.TimedOut || code === PipedriveErrorCode.Server
  );
}

/** Pipedrive answers `{success: false, error, error_info}` (v1 and v2 alike). */
export function pipedriveMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_info?: unknown };
    const parts = [parsed.error, parsed.error_info].filter((p): p is string => typeof p === 'string' && !!p);
    return parts.length ? parts.join(': ') : undefined;
  } catch {
    return undefined;
  }
}

/** Classifies an answer that is not a 2xx `{success: true}`. */
export function classifyFailure(result: OutboundResult): PipedriveError {
  const detail = { statusCode: result.statusCode, durationMs: result.durationMs, body: result.body };
  const status = result.statusCode;
  if (status === undefined) {
    switch (result.errorCode) {
      case OutboundErrorCode.TimedOut:
        return { code: PipedriveErrorCode.TimedOut, message: result.error ?? 'timed out', ...detail };
      case OutboundErrorCode.Refused:
      case OutboundErrorCode.InvalidRequest:
        return { code: PipedriveErrorCode.Refused, message: result.error ?? 'refused', ...detail };
      case OutboundErrorCode.Network:
      case undefined:
        return { code: PipedriveErrorCode.Network, message: result.error ?? 'no answer', ...detail };
    }
  }
  const message = pipedriveMessage(result.body) ?? `HTTP ${status}`;
  if (status === 429) {
    const afterMs = result.retryAfterSeconds === undefined ? undefined : result.retryAfterSeconds * 1000;
    return { code: PipedriveErrorCode.RateLimited, message: `Pipedrive rate limit: ${message}`, afterMs, ...detail };
  }
  if (status >= 500) return { code: PipedriveErrorCode.Server, message: `Pipedrive ${status}: ${message}`, ...detail };
  if (status === 400 || status === 422) {
    return { code: PipedriveErrorCode.Validation, message: `Pipedrive rejected the request: ${message}`, ...detail };
  }
  if (status === 401) return { code: PipedriveErrorCode.Unauthorized, message: `Pipedrive 401: ${message}`, ...detail };
  if (status === 402 || status === 403) {
    return { code: PipedriveErrorCode.Forbidden, message: `Pipedrive ${status}: ${message}`, ...detail };
  }
  if (status === 404) return { code: PipedriveErrorCode.NotFound, message: `Pipedrive 404: ${message}`, ...detail };
  return { code: PipedriveErrorCode.Unexpected, message: `Pipedrive answered HTTP ${status}: ${message}`, ...detail };
}
