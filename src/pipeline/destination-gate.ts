import { BusyPacer } from './busy-pacer';
import {
  DESTINATION_BUSY_MAX_DELAY_MS,
  DESTINATION_FAST_ATTEMPT_MS,
  DESTINATION_FIRST_GUESS_MS,
} from './pipeline.constants';

/**
 * How many slots a key may hold: a fixed number, or (issue 11) a limit that adapts to the receiver. It starts at
 * `base`, grows by one per fast attempt while every slot is busy, up to `max`, and halves (never below `base`) on
 * an attempt that was slow or failed. A receiver that answers in a few milliseconds soon has `max` slots; a slow
 * or failing one stays at `base`, so it still holds only a few slots of the process.
 */
export type SlotLimit = number | { base: number; max: number };

/**
 * Attempts in flight per destination in this process. A destination at its limit gets no more worker slots: its
 * next job goes back to the queue for a while (see DeliverJob), so slow receivers can hold a few slots each and
 * never every slot. Counting in memory keeps the check off Postgres; with N worker processes a receiver sees at
 * most N × its limit connections from the hub.
 *
 * A job may also wait here for a slot of a busy destination (issue 11): by default at most `limit` waiters per
 * destination, each for at most `maxWaitMs`. A fast receiver frees a slot within a few milliseconds, so its backlog
 * flows without each job going back to Redis and coming out again; a slow receiver's waiters give up after
 * `maxWaitMs` and go back to the queue as before, so it still holds only a few slots, and only briefly.
 *
 * A job that goes back to the queue asks `nextTurn` when to come back: the gate times how long each slot is held
 * and books the key's turns with a BusyPacer, so a backlog comes back about once per job, not on a timer.
 */
export class DestinationGate {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, ((release: (ok?: boolean) => void) => void)[]>();
  /** Adaptive limits: each key's current limit, between its base and its max. */
  private readonly limits = new Map<string, number>();
  private readonly pacer: BusyPacer;
  private readonly fastMs: number;

  /**
   * `firstGuessMs`: a key's time per slot until one is seen; `maxDelayMs`: the furthest turn ever booked;
   * `fastMs`: an adaptive limit grows on slots held at most this long and shrinks on longer ones.
   */
  constructor({
    firstGuessMs = DESTINATION_FIRST_GUESS_MS,
    maxDelayMs = DESTINATION_BUSY_MAX_DELAY_MS,
    fastMs = DESTINATION_FAST_ATTEMPT_MS,
  } = {}) {
    this.pacer = new BusyPacer(firstGuessMs, maxDelayMs);
    this.fastMs = fastMs;
  }

  /** Milliseconds until the key's next free turn, which this books (see BusyPacer). */
  nextTurn(key: string, limit: SlotLimit): number {
    return this.pacer.delayFor(key, this.limitOf(key, limit));
  }

  /** The key's limit now: the fixed one, or where its adaptive one stands. */
  limitOf(key: string, limit: SlotLimit): number {
    if (typeof limit === 'number') return limit;
    return Math.min(limit.max, Math.max(limit.base, this.limits.get(key) ?? limit.base));
  }

  /**
   * Takes a slot and returns its release, or undefined when the destination is at its limit. The release takes
   * whether the attempt went well: a failed one shrinks an adaptive limit, as a slow one does; none (a slot given
   * back unused) leaves the limit and the timing alone.
   */
  tryAcquire(destinationId: string, limit: SlotLimit): ((ok?: boolean) => void) | undefined {
    const held = this.inFlight.get(destinationId) ?? 0;
    if (held >= this.limitOf(destinationId, limit)) return undefined;
    this.inFlight.set(destinationId, held + 1);
    return this.releaser(destinationId, limit);
  }

  /**
   * As tryAcquire, but when the destination is at its limit and fewer than `maxWaiters` (default: the limit) jobs
   * already wait, waits up to `maxWaitMs` for a slot to be handed over. Resolves undefined when there is none by then.
   */
  async acquire(
    destinationId: string,
    limit: SlotLimit,
    maxWaitMs: number,
    maxWaiters = this.limitOf(destinationId, limit),
  ): Promise<((ok?: boolean) => void) | undefined> {
    const now = this.tryAcquire(destinationId, limit);
    if (now || maxWaitMs <= 0) return now;
    const queue = this.waiting.get(destinationId) ?? [];
    if (queue.length >= maxWaiters) return undefined;
    this.waiting.set(destinationId, queue);
    return new Promise((resolve) => {
      const waiter = (release: (ok?: boolean) => void) => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(() => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        if (!queue.length && this.waiting.get(destinationId) === queue) this.waiting.delete(destinationId);
        resolve(undefined);
      }, maxWaitMs);
      queue.push(waiter);
    });
  }

  held(destinationId: string): number {
    return this.inFlight.get(destinationId) ?? 0;
  }

  /**
   * A release records how long the slot was held and adapts the key's limit, then hands free slots straight to the
   * first waiters, if any (two when the limit just grew, none when it just shrank below what is held). Once only.
   */
  private releaser(destinationId: string, limit: SlotLimit): (ok?: boolean) => void {
    const since = Date.now();
    let released = false;
    return (ok?: boolean) => {
      if (released) return;
      released = true;
      const heldMs = Date.now() - since;
      // A slot given back unused (ok undefined: no attempt was made in it) says nothing about the receiver.
      if (ok !== undefined) {
        this.pacer.observe(destinationId, heldMs);
        if (typeof limit !== 'number' && limit.max > limit.base) this.adapt(destinationId, limit, ok && heldMs <= this.fastMs);
      }
      const now = (this.inFlight.get(destinationId) ?? 1) - 1;
      if (now > 0) this.inFlight.set(destinationId, now);
      else this.inFlight.delete(destinationId);
      this.admit(destinationId, limit);
    };
  }

  /** Additive increase while the key uses every slot, multiplicative decrease on a slow or failed attempt. */
  private adapt(destinationId: string, limit: { base: number; max: number }, fast: boolean): void {
    const current = this.limitOf(destinationId, limit);
    const busy = this.held(destinationId) >= current || !!this.waiting.get(destinationId)?.length;
    const next = fast ? (busy ? current + 1 : current) : Math.floor(current / 2);
    const bounded = Math.min(limit.max, Math.max(limit.base, next));
    if (bounded === limit.base) this.limits.delete(destinationId);
    else this.limits.set(destinationId, bounded);
  }

  private admit(destinationId: string, limit: SlotLimit): void {
    const queue = this.waiting.get(destinationId);
    while (queue?.length && this.held(destinationId) < this.limitOf(destinationId, limit)) {
      this.inFlight.set(destinationId, this.held(destinationId) + 1);
      queue.shift()!(this.releaser(destinationId, limit));
    }
    if (queue && !queue.length) this.waiting.delete(destinationId);
  }
}
