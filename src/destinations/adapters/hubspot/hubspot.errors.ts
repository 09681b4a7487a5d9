import { OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import type { AdapterOutcome, AttemptDetail } from '../destination-adapter';

/** What a HubSpot answer (or its absence) means for the delivery (STYLE: classify where the vendor's knowledge lives). */
export enum HubspotErrorCode {
  /** 429 `RATE_LIMIT`, or our own bucket had no token in time. */
  RateLimited = 'rate_limited',
  /** 5xx: HubSpot had a problem; the same request may succeed later. */
  Unavailable = 'unavailable',
  /** No usable answer: timeout, connection refused or dropped (the write may or may not have been applied). */
  Network = 'network',
  /** 400/422 `VALIDATION_ERROR` and other 4xx: the same request will fail again. */
  Validation = 'validation',
  /** 401/403: the token is wrong or lacks a scope. Ops must act; retrying cannot help. */
  Unauthorized = 'unauthorized',
  /** 409 `CONFLICT`: a unique value belongs to another record. */
  Conflict = 'conflict',
  /** The hub refused to send (SSRF guard, a header Node cannot send). */
  Refused = 'refused',
  /** The event lacks what HubSpot needs to upsert it (an email for a contact, a domain for a company). */
  MissingField = 'missing_field',
}

export class HubspotError extends Error {
  override name = 'HubspotError';
  constructor(
    readonly code: HubspotErrorCode,
    message: string,
    readonly afterMs?: number,
    /** The HTTP exchange behind the error, for the attempt log. */
    public result?: OutboundResult,
  ) {
    super(message);
  }
}

/** HubSpot's error body (crm/objects StandardError / Error): `{status, message, category, correlationId, errors[]}`. */
export interface HubspotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  policyName?: string;
  correlationId?: string;
  errors?: { message?: string; code?: string; context?: Record<string, string[]> }[];
}

const DEFAULT_RATE_LIMIT_BACKOFF_MS = 10_000;
/** HubSpot's daily limit resets at midnight in the portal's time zone, which the hub does not know: retry hourly. */
const DAILY_LIMIT_BACKOFF_MS = 3_600_000;

/** Classifies an answer that is not a 2xx. Returns undefined for a 2xx (207 included: its body says more). */
export function classifyHubspotAnswer(result: OutboundResult): HubspotError | undefined {
  const status = result.statusCode;
  if (status === undefined) {
    if (result.refused) return new HubspotError(HubspotErrorCode.Refused, result.error ?? 'refused');
    if (result.errorCode === OutboundErrorCode.InvalidRequest) {
      return new HubspotError(HubspotErrorCode.Refused, result.error ?? 'invalid request');
    }
    return new HubspotError(HubspotErrorCode.Network, result.error ?? 'no answer from HubSpot');
  }
  if (status >= 200 && status < 300) return undefined;
  const body = parseErrorBody(result.body);
  const message = hubspotMessage(status, body, result.body);
  if (status === 429) {
    const daily = body?.policyName === 'DAILY';
    const interval = headerNumber(result, 'x-hubspot-ratelimit-interval-milliseconds');
    const afterMs =
      result.retryAfterSeconds !== undefined
        ? result.retryAfterSeconds * 1000
        : daily
          ? DAILY_LIMIT_BACKOFF_MS
          : (interval ?? DEFAULT_RATE_LIMIT_BACKOFF_MS);
    return new HubspotError(HubspotErrorCode.RateLimited, message, afterMs);
  }
  if (status >= 500) {
    const afterMs = result.retryAfterSeconds === undefined ? undefined : result.retryAfterSeconds * 1000;
    return new HubspotError(HubspotErrorCode.Unavailable, message, afterMs);
  }
  if (status === 401 || status === 403) return new HubspotError(HubspotErrorCode.Unauthorized, message);
  if (status === 409) return new HubspotError(HubspotErrorCode.Conflict, message);
  // 3xx (no redirect is followed) and every other 4xx: the same request gets the same answer.
  return new HubspotError(HubspotErrorCode.Validation, message);
}

/** The adapter outcome of a HubSpot error (exhaustive: a new code must say whether it is retried). */
export function outcomeOfHubspotError(err: HubspotError, detail: AttemptDetail): AdapterOutcome {
  switch (err.code) {
    case HubspotErrorCode.RateLimited:
    case HubspotErrorCode.Unavailable:
    case HubspotErrorCode.Network:
      return { outcome: 'retry', reason: err.message, afterMs: err.afterMs, ...detail };
    case HubspotErrorCode.Validation:
    case HubspotErrorCode.Unauthorized:
    case HubspotErrorCode.Conflict:
    case HubspotErrorCode.Refused:
    case HubspotErrorCode.MissingField:
      return { outcome: 'failed', reason: err.message, ...detail };
  }
}

export function parseErrorBody(body: string | undefined): HubspotErrorBody | undefined {
  if (!body) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === 'object' ? (parsed as HubspotErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/** "HubSpot 400 VALIDATION_ERROR: <message>", the CRM's own words for the attempt log. */
function hubspotMessage(status: number, body: HubspotErrorBody | undefined, raw: string | undefined): string {
  const category = body?.category ? ` ${body.category}` : '';
  const text = body?.message ?? body?.errors?.[0]?.message ?? raw?.slice(0, 500) ?? '';
  return `HubSpot ${status}${category}${text ? `: ${text}` : ''}`;
}

export function headerNumber(result: OutboundResult, name: string): number | undefined {
  const raw = result.headers?.[name];
  const value = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw === undefined || Number.isNaN(value) ? undefined : value;
}
