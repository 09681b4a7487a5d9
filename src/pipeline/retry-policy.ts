/** ±20 % jitter (DESIGN §5), so a recovering receiver isn't hit by every retry at once. */
export const JITTER = 0.2;
/** Retry-After is honoured up to a day; a receiver asking for longer gets the day. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * The delay before the next attempt, or undefined when attempts are used up.
 * `schedule[i]` is the wait before attempt i+1 (schedule[0] = 0: the first attempt goes at once),
 * so after `attemptsMade` attempts the next waits `schedule[attemptsMade]`.
 */
export function nextDelayMs(
  schedule: number[],
  attemptsMade: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number | undefined {
  if (attemptsMade >= schedule.length) return undefined;
  const base = schedule[attemptsMade] * 1000;
  const jittered = base * (1 + (random() * 2 - 1) * JITTER);
  const floor = retryAfterSeconds === undefined ? 0 : Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS) * 1000;
  return Math.round(Math.max(jittered, floor));
}

/** Thrown by the deliver job so BullMQ schedules the retry; the backoff strategy reads the delay from it. */
export class RetryDeliveryError extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryDeliveryError';
  }
}
