import { OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import type { AdapterOutcome, AttemptDetail } from '../destination-adapter';

/** What went wrong with a Salesforce request, in Salesforce's own terms (REST API: Status Codes and Error Responses). */
export enum SalesforceErrorCode {
  /** No answer: DNS, connect, reset, timeout. */
  Network = 'network',
  /** 5xx, or UNABLE_TO_LOCK_ROW (another transaction holds the record). */
  Unavailable = 'unavailable',
  /** 403 REQUEST_LIMIT_EXCEEDED: the daily API limit or the concurrent long-request limit. */
  RequestLimit = 'request_limit',
  /** 401 INVALID_SESSION_ID: the access token is wrong, expired or revoked. */
  InvalidSession = 'invalid_session',
  /** 300: several records carry this external id. */
  MultipleMatches = 'multiple_matches',
  /** 400/404 `[{message, errorCode, fields}]`: required fields, bad values, unknown field or object. */
  Rejected = 'rejected',
  /** A create-only field (TaskSubtype) sent to a record that already exists: send again without it. */
  CreateOnlyField = 'create_only_field',
  /** The hub refused the target (SSRF guard) or could not build the request. */
  Refused = 'refused',
}

export interface SalesforceError {
  code: SalesforceErrorCode;
  /** The CRM's own words, for the attempt log. */
  message: string;
  retryAfterMs?: number;
  fields?: string[];
}

/** Fields Salesforce accepts on create only; an upsert that updates must leave them out. */
export const CREATE_ONLY_FIELDS = ['TaskSubtype', 'EventSubtype'];

/** Salesforce's error item: `errorCode` in REST answers, `statusCode` in sObject Collections results. */
export interface SalesforceErrorItem {
  message?: string;
  errorCode?: string;
  statusCode?: string;
  fields?: string[];
}

/** undefined for a 2xx answer; otherwise what the answer means. */
export function classifyAnswer(result: OutboundResult): SalesforceError | undefined {
  const status = result.statusCode;
  if (status === undefined) {
    const refused = result.refused || result.errorCode === OutboundErrorCode.InvalidRequest;
    return {
      code: refused ? SalesforceErrorCode.Refused : SalesforceErrorCode.Network,
      message: result.error ?? 'no answer',
    };
  }
  if (status >= 200 && status < 300) return undefined;
  const items = errorItems(result.body);
  const first = items[0];
  const message = items.length
    ? items.map((e) => `${e.errorCode ?? e.statusCode ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ')
    : `HTTP ${status}${result.body ? `: ${result.body.slice(0, 200)}` : ''}`;
  const retryAfterMs = result.retryAfterSeconds === undefined ? undefined : result.retryAfterSeconds * 1000;
  if (status === 300) {
    const urls = parseJson<unknown[]>(result.body);
    const listed = Array.isArray(urls) ? `: ${urls.filter((u) => typeof u === 'string').join(', ')}` : '';
    return { code: SalesforceErrorCode.MultipleMatches, message: `HTTP 300, several records match${listed}` };
  }
  if (status >= 500) return { code: SalesforceErrorCode.Unavailable, message, retryAfterMs };
  if (items.some((e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED')) {
    return { code: SalesforceErrorCode.RequestLimit, message, retryAfterMs };
  }
  if (status === 401 || items.some((e) => e.errorCode === 'INVALID_SESSION_ID')) {
    return { code: SalesforceErrorCode.InvalidSession, message };
  }
  if (status === 429) return { code: SalesforceErrorCode.RequestLimit, message, retryAfterMs };
  const itemError = items.length ? classifyItems(items) : undefined;
  return itemError ?? { code: SalesforceErrorCode.Rejected, message, fields: first?.fields };
}

/** The errors of one record (a REST error list or an sObject Collections result's `errors`). */
export function classifyItems(items: SalesforceErrorItem[]): SalesforceError {
  const message = items.map((e) => `${e.errorCode ?? e.statusCode ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ');
  const codes = items.map((e) => e.errorCode ?? e.statusCode);
  const fields = items.flatMap((e) => e.fields ?? []);
  if (
    codes.every((c) => c === 'INVALID_FIELD_FOR_INSERT_UPDATE') &&
    fields.length > 0 &&
    fields.every((f) => CREATE_ONLY_FIELDS.includes(f))
  ) {
    return { code: SalesforceErrorCode.CreateOnlyField, message, fields };
  }
  if (codes.includes('UNABLE_TO_LOCK_ROW')) return { code: SalesforceErrorCode.Unavailable, message };
  if (codes.includes('REQUEST_LIMIT_EXCEEDED')) return { code: SalesforceErrorCode.RequestLimit, message };
  return { code: SalesforceErrorCode.Rejected, message, fields };
}

export interface ThrottleBackoff {
  /** TotalRequests: the rolling 24-hour limit is spent. */
  dailyLimitMs: number;
  /** Any other REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn): a short wait. */
  otherLimitMs: number;
}

/** The adapter outcome of a Salesforce error (STYLE: classify errors where the vendor's knowledge lives). */
export function outcomeOf(error: SalesforceError, detail: AttemptDetail, backoff: ThrottleBackoff): AdapterOutcome {
  switch (error.code) {
    case SalesforceErrorCode.Network:
    case SalesforceErrorCode.Unavailable:
      return { outcome: 'retry', reason: error.message, afterMs: error.retryAfterMs, ...detail };
    case SalesforceErrorCode.RequestLimit:
      return {
        outcome: 'retry',
        reason: `Salesforce API limit: ${error.message}`,
        afterMs: throttleDelayMs(error, backoff),
        ...detail,
      };
    case SalesforceErrorCode.InvalidSession:
      return {
        outcome: 'failed',
        reason: `Salesforce refused the access token (${error.message}): set a valid token in the destination's config.token`,
        ...detail,
      };
    case SalesforceErrorCode.MultipleMatches:
      return {
        outcome: 'failed',
        reason: `${error.message}: make the external id field unique, or merge the duplicates`,
        ...detail,
      };
    case SalesforceErrorCode.Rejected:
    case SalesforceErrorCode.CreateOnlyField:
    case SalesforceErrorCode.Refused:
      return { outcome: 'failed', reason: error.message, ...detail };
  }
}

export function throttleDelayMs(error: SalesforceError, backoff: ThrottleBackoff): number {
  if (error.retryAfterMs !== undefined) return error.retryAfterMs;
  return /TotalRequests/i.test(error.message) ? backoff.dailyLimitMs : backoff.otherLimitMs;
}

function errorItems(body: string | undefined): SalesforceErrorItem[] {
  const parsed = parseJson<unknown>(body);
  const list = Array.isArray(parsed) ? parsed : parsed && typeof parsed === 'object' ? [parsed] : [];
  return list.filter(
    (e): e is SalesforceErrorItem =>
      !!e && typeof e === 'object' && ('errorCode' in e || 'statusCode' in e) && 'message' in e,
  );
}

export function parseJson<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
