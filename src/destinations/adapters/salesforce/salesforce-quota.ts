import type http from 'node:http';
import { acquireToken, TokenBucket } from '../shared/token-bucket';

/** Share of the daily API budget above which non-urgent writes wait (issue 8: for example 90 %). */
export const DEFER_AT = 0.9;
/** Salesforce's limits are per org and per rolling 24 hours; until the first answer says otherwise, assume this. */
const ASSUMED_DAILY_LIMIT = 15_000;
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * Requests per second per destination. Salesforce publishes no per-second limit, only the daily one and 25
 * concurrent long requests; pacing keeps a backlog from arriving as one burst.
 */
const PACE_PER_SECOND = 25;

export interface DailyUsage {
  used: number;
  max: number;
}

/** `Sforce-Limit-Info: api-usage=18/5000; per-app-api-usage=...` → {used, max}. */
export function parseLimitInfo(headers: http.IncomingHttpHeaders | undefined): DailyUsage | undefined {
  const raw = headers?.['sforce-limit-info'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const match = value ? /(?:^|[;\s])api-usage=(\d+)\/(\d+)/.exec(value) : null;
  if (!match) return undefined;
  const used = Number(match[1]);
  const max = Number(match[2]);
  return max > 0 ? { used, max } : undefined;
}

/**
 * One destination's quota: a pacing bucket, a daily bucket fed by Sforce-Limit-Info (the hub is rarely the org's
 * only API client, so the header is the truth), and the last usage seen, for health and deferral.
 */
export class SalesforceQuota {
  private readonly pace = new TokenBucket(PACE_PER_SECOND, 1000);
  private daily = new TokenBucket(ASSUMED_DAILY_LIMIT, DAY_MS);
  private dailyMax = ASSUMED_DAILY_LIMIT;
  usage?: DailyUsage;

  observe(headers: http.IncomingHttpHeaders | undefined): void {
    const usage = parseLimitInfo(headers);
    if (!usage) return;
    this.usage = usage;
    if (usage.max !== this.dailyMax) {
      this.dailyMax = usage.max;
      this.daily = new TokenBucket(usage.max, DAY_MS);
    }
    this.daily.observe(usage.max - usage.used);
  }

  /** At or above 90 % of the daily budget: writes that can wait should. */
  get nearlySpent(): boolean {
    return !!this.usage && this.usage.used / this.usage.max >= DEFER_AT;
  }

  /** A 403 REQUEST_LIMIT_EXCEEDED: nothing for this destination until `afterMs`. */
  pause(afterMs: number): void {
    this.pace.pause(afterMs);
  }

  /** Waits for a request slot, up to `maxWaitMs`; false when the daily budget or a pause makes it longer. */
  async acquire(maxWaitMs: number): Promise<boolean> {
    if (!(await acquireToken(this.daily, 0))) return false;
    return acquireToken(this.pace, maxWaitMs);
  }
}
