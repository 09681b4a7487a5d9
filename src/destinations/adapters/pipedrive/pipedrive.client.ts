import type { QuotaReport } from '../destination-adapter';
import type { IncomingHttpHeaders } from 'node:http';
import { OutboundClient } from '../../../outbound/outbound.client';
import { acquireToken, TokenBucket } from '../shared/token-bucket';
import { classifyFailure, PipedriveError, PipedriveErrorCode } from './pipedrive.errors';

/**
 * Pipedrive's default budget is token-based per rolling 2 s window and depends on the plan; the hub starts low and
 * lets `x-ratelimit-remaining` / `x-ratelimit-reset` correct the bucket after every answer.
 */
const DEFAULT_BUCKET = { capacity: 20, windowMs: 2000 };
/** Lists and searches can be long; the 16 KiB default would cut them. */
const RESPONSE_CAP_BYTES = 1024 * 1024;

export interface PipedriveSettings {
  destinationId: string;
  baseUrl: string;
  token: string;
}

export interface PipedriveCall {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** e.g. `/api/v2/persons` */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: Record<string, unknown>;
}

export type PipedriveAnswer<T> =
  | { ok: true; data: T; additional?: Record<string, unknown>; statusCode: number; durationMs: number }
  | ({ ok: false } & PipedriveError);

/** One attempt's time: every call made for one delivery shares the attempt's deadline. */
export class Deadline {
  private readonly until: number;
  constructor(ms: number) {
    this.until = Date.now() + ms;
  }
  remainingMs(): number {
    return Math.max(0, this.until - Date.now());
  }
}

/**
 * Pipedrive's REST API through the hub's OutboundClient (keep-alive, SSRF guard, deadline): the `x-api-token`
 * header, `{success, data}` answers, and a token bucket per destination so the hub slows down before Pipedrive
 * says 429.
 */
export class PipedriveClient {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly quota = new Map<string, { remaining?: number; limit?: number; dailyLeft?: number; at: string }>();

  constructor(private readonly outbound: OutboundClient) {}

  async call<T>(settings: PipedriveSettings, call: PipedriveCall, deadline: Deadline): Promise<PipedriveAnswer<T>> {
    const bucket = this.bucket(settings.destinationId);
    // Waiting for a token must leave time for the request itself; otherwise give the wait back as a retry.
    const waitBudget = Math.max(0, deadline.remainingMs() - 1000);
    if (!(await acquireToken(bucket, waitBudget))) {
      const afterMs = Math.max(1, bucket.take());
      return {
        ok: false,
        code: PipedriveErrorCode.RateLimited,
        message: `Pipedrive request budget spent; next token in ${afterMs} ms`,
        afterMs,
        durationMs: 0,
      };
    }
    const url = new URL(call.path, settings.baseUrl.endsWith('/') ? settings.baseUrl : `${settings.baseUrl}/`);
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const result = await this.outbound.request({
      method: call.method,
      url: url.toString(),
      headers: {
        'x-api-token': settings.token,
        accept: 'application/json',
        'user-agent': 'Switchboard-Pipedrive/0.1',
        ...(call.body ? { 'content-type': 'application/json' } : {}),
      },
      body: call.body ? JSON.stringify(call.body) : undefined,
      deadlineMs: Math.max(1, deadline.remainingMs()),
      responseCapBytes: RESPONSE_CAP_BYTES,
    });
    if (result.headers) this.observe(settings.destinationId, bucket, result.headers);
    const status = result.statusCode;
    if (status === 429) bucket.pause((result.retryAfterSeconds ?? 2) * 1000);
    if (status !== undefined && status >= 200 && status < 300 && !result.truncated) {
      try {
        const parsed = JSON.parse(result.body ?? '') as {
          success?: boolean;
          data?: T;
          additional_data?: Record<string, unknown>;
        };
        if (parsed.success !== false) {
          return {
            ok: true,
            data: parsed.data as T,
            additional: parsed.additional_data,
            statusCode: status,
            durationMs: result.durationMs,
          };
        }
      } catch {
        // Not Pipedrive's JSON: classified below as unexpected.
      }
      return {
        ok: false,
        code: PipedriveErrorCode.Unexpected,
        message: `Pipedrive answered ${status} without {success: true}`,
        statusCode: status,
        durationMs: result.durationMs,
        body: result.body,
      };
    }
    return { ok: false, ...classifyFailure(result) };
  }

  /**
   * Quota use per destination, for /health and /metrics: the rate-limit window as Pipedrive last reported it
   * (Pipedrive tells the daily requests left, not the daily budget, so that one goes into the detail).
   */
  health(): Record<string, QuotaReport> {
    return Object.fromEntries(
      [...this.quota].map(([id, q]): [string, QuotaReport] => [
        id,
        {
          used: q.limit !== undefined && q.remaining !== undefined ? q.limit - q.remaining : 0,
          max: q.limit ?? 0,
          detail: { dailyRequestsLeft: q.dailyLeft, at: q.at },
        },
      ]),
    );
  }

  private bucket(destinationId: string): TokenBucket {
    let bucket = this.buckets.get(destinationId);
    if (!bucket) {
      bucket = new TokenBucket(DEFAULT_BUCKET.capacity, DEFAULT_BUCKET.windowMs);
      this.buckets.set(destinationId, bucket);
    }
    return bucket;
  }

  /**
   * Pipedrive rate-limit headers: `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds
   * until the window resets); `x-daily-requests-left` where the plan has a daily budget.
   */
  private observe(destinationId: string, bucket: TokenBucket, headers: IncomingHttpHeaders): void {
    const number = (name: string) => {
      const raw = headers[name];
      const value = Number(Array.isArray(raw) ? raw[0] : raw);
      return raw === undefined || Number.isNaN(value) ? undefined : value;
    };
    const remaining = number('x-ratelimit-remaining');
    const reset = number('x-ratelimit-reset');
    if (remaining !== undefined) bucket.observe(remaining, reset === undefined ? undefined : reset * 1000);
    this.quota.set(destinationId, {
      remaining,
      limit: number('x-ratelimit-limit'),
      dailyLeft: number('x-daily-requests-left'),
      at: new Date().toISOString(),
    });
  }
}
