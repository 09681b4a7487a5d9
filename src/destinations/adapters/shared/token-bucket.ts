/**
 * A token bucket per destination, so the hub slows down before a CRM answers 429 (issue 8). `take` says how long
 * to wait for a token; `observe` corrects the bucket from the CRM's own rate-limit headers (remaining requests in
 * the current window and when it resets), which are the truth when the hub is not the CRM's only client.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    /** Requests allowed per window. */
    private readonly capacity: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes a token if there is one and returns 0; otherwise returns how many ms until one is due (takes nothing). */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * this.windowMs) / this.capacity);
  }

  /** The CRM said: `remaining` requests left, the window resets in `resetMs` (when it says). */
  observe(remaining: number, resetMs?: number): void {
    this.refill();
    if (remaining < this.tokens) this.tokens = Math.max(0, remaining);
    if (remaining <= 0 && resetMs !== undefined) {
      // Empty until the reset: back-date the refill so the next token is due exactly then.
      this.tokens = -((resetMs * this.capacity) / this.windowMs) + 1;
    }
  }

  /** An explicit 429: nothing until `afterMs`. */
  pause(afterMs: number): void {
    this.refill();
    this.tokens = Math.min(this.tokens, -((afterMs * this.capacity) / this.windowMs) + 1);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) * this.capacity) / this.windowMs);
    this.updatedAt = now;
  }
}

/** Waits until the bucket gives a token (bounded by `maxWaitMs`; returns false when that would be longer). */
export async function acquireToken(bucket: TokenBucket, maxWaitMs: number): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    const wait = bucket.take();
    if (wait === 0) return true;
    if (Date.now() - started + wait > maxWaitMs) return false;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
