import type { QuotaReport } from '../destination-adapter';
import { OutboundClient, OutboundResult } from '../../../outbound/outbound.client';
import { acquireToken, TokenBucket } from '../shared/token-bucket';
import type { HubspotConfig } from './hubspot.config-spec';
import { classifyHubspotAnswer, headerNumber, HubspotError, HubspotErrorCode } from './hubspot.errors';

/**
 * HubSpot's documented burst limit for private apps on most tiers: 100 requests per rolling 10 s (190 on some).
 * The bucket starts here and is resized from the `X-HubSpot-RateLimit-Max` / `-Interval-Milliseconds` headers.
 */
const DEFAULT_CAPACITY = 100;
const DEFAULT_WINDOW_MS = 10_000;
/** Batch answers of 100 records are larger than the outbound client's default 16 KiB cap. */
const RESPONSE_CAP_BYTES = 4 * 1024 * 1024;
/** issue 8: when this share of the daily budget is spent, non-urgent writes wait. */
export const DAILY_BUDGET_DEFER_RATIO = 0.9;

export interface HubspotTarget {
  destinationId: string;
  config: HubspotConfig;
}

export interface HubspotResponse<T> {
  json: T;
  result: OutboundResult;
}

interface Quota {
  bucket: TokenBucket;
  capacity: number;
  windowMs: number;
  dailyMax?: number;
  dailyRemaining?: number;
  throttled: number;
}

/**
 * HubSpot over the hub's one OutboundClient: Bearer auth, JSON, and a token bucket per destination fed by HubSpot's
 * rate-limit headers, so the hub slows down before HubSpot answers 429. Every non-2xx answer is thrown as a
 * classified HubspotError.
 */
export class HubspotClient {
  private readonly quotas = new Map<string, Quota>();

  constructor(private readonly outbound: OutboundClient) {}

  async send<T>(
    target: HubspotTarget,
    request: { method: 'GET' | 'POST' | 'PUT'; path: string; body?: unknown },
    deadlineAt: number,
  ): Promise<HubspotResponse<T>> {
    const quota = this.quota(target.destinationId);
    const remaining = deadlineAt - Date.now();
    if (!(await acquireToken(quota.bucket, Math.max(0, remaining - 1000)))) {
      const wait = quota.bucket.take();
      if (wait > 0) {
        throw new HubspotError(
          HubspotErrorCode.RateLimited,
          `waiting for the HubSpot rate limit (${quota.capacity} requests per ${quota.windowMs} ms)`,
          wait,
        );
      }
    }
    const result = await this.outbound.request({
      method: request.method,
      url: `${target.config.baseUrl}${request.path}`,
      headers: {
        authorization: `Bearer ${target.config.token}`,
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        'user-agent': 'Switchboard-HubSpot/0.1',
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      deadlineMs: Math.max(1000, deadlineAt - Date.now()),
      responseCapBytes: RESPONSE_CAP_BYTES,
    });
    // A 429 says "Remaining: 0" for the whole window; its Retry-After (or interval) is the better guide, set below.
    if (result.statusCode !== 429) this.observe(quota, result);
    const error = classifyHubspotAnswer(result);
    if (error) {
      if (error.code === HubspotErrorCode.RateLimited) {
        quota.throttled += 1;
        quota.bucket.pause(error.afterMs ?? quota.windowMs);
      }
      error.result = result;
      throw error;
    }
    let json: T;
    try {
      json = (result.body ? JSON.parse(result.body) : {}) as T;
    } catch {
      const message = `HubSpot ${result.statusCode}: the answer is not JSON`;
      throw new HubspotError(HubspotErrorCode.Network, message, undefined, result);
    }
    return { json, result };
  }

  /** True when the daily budget is nearly spent: non-urgent writes should wait (issue 8: quotas). */
  dailyBudgetLow(destinationId: string): boolean {
    const quota = this.quotas.get(destinationId);
    if (!quota?.dailyMax || quota.dailyRemaining === undefined) return false;
    return quota.dailyMax - quota.dailyRemaining >= DAILY_BUDGET_DEFER_RATIO * quota.dailyMax;
  }

  /** Quota use per destination, for /health details and /metrics: the daily budget, as HubSpot last said. */
  health(): Record<string, QuotaReport> {
    return Object.fromEntries(
      [...this.quotas].map(([id, q]): [string, QuotaReport] => [
        id,
        {
          used: q.dailyMax === undefined ? 0 : q.dailyMax - (q.dailyRemaining ?? q.dailyMax),
          max: q.dailyMax ?? 0,
          deferring: this.dailyBudgetLow(id),
          detail: { limit: `${q.capacity} per ${q.windowMs} ms`, throttled: q.throttled },
        },
      ]),
    );
  }

  private quota(destinationId: string): Quota {
    let quota = this.quotas.get(destinationId);
    if (!quota) {
      quota = {
        bucket: new TokenBucket(DEFAULT_CAPACITY, DEFAULT_WINDOW_MS),
        capacity: DEFAULT_CAPACITY,
        windowMs: DEFAULT_WINDOW_MS,
        throttled: 0,
      };
      this.quotas.set(destinationId, quota);
    }
    return quota;
  }

  /** HubSpot's headers are the truth when the hub is not the portal's only client (other apps share the limit). */
  private observe(quota: Quota, result: OutboundResult): void {
    const max = headerNumber(result, 'x-hubspot-ratelimit-max');
    const interval = headerNumber(result, 'x-hubspot-ratelimit-interval-milliseconds');
    const remaining = headerNumber(result, 'x-hubspot-ratelimit-remaining');
    if (max && interval && (max !== quota.capacity || interval !== quota.windowMs)) {
      quota.bucket = new TokenBucket(max, interval);
      quota.capacity = max;
      quota.windowMs = interval;
    }
    if (remaining !== undefined) quota.bucket.observe(remaining, quota.windowMs);
    const dailyMax = headerNumber(result, 'x-hubspot-ratelimit-daily');
    const dailyRemaining = headerNumber(result, 'x-hubspot-ratelimit-daily-remaining');
    if (dailyMax !== undefined) quota.dailyMax = dailyMax;
    if (dailyRemaining !== undefined) quota.dailyRemaining = dailyRemaining;
  }
}
