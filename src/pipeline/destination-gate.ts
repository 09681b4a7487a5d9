import { BusyPacer } from './busy-pacer';
import { DESTINATION_BUSY_MAX_DELAY_MS, DESTINATION_FIRST_GUESS_MS } from './pipeline.constants';

/**
 * Attempts in flight per destination in this process. A destination at its cap gets no more worker slots: its next
 * job goes back to the queue for a while (see DeliverJob), so slow receivers can hold `cap` slots each and never
 * every slot. Counting in memory keeps the check off Postgres; with N worker processes a receiver sees at most
 * N × cap connections from the hub.
 *
 * A job may also wait here, briefly, for a slot of a busy destination (issue 11): at most `cap` waiters per
 * destination, each for at most `maxWaitMs`. A fast receiver frees a slot within a few milliseconds, so its backlog
 * flows without each job going back to Redis and coming out again; a slow receiver's waiters give up after
 * `maxWaitMs` and go back to the queue as before, so it still holds at most 2 × cap slots, and only briefly.
 *
 * A job that goes back to the queue asks `nextTurn` when to come back: the gate times how long each slot is held
 * and books the key's turns with a BusyPacer, so a backlog comes back about once per job, not on a timer.
 */
export class DestinationGate {
  private readonly inFlight = new Map<string, number>();
  private readonly waiting = new Map<string, ((release: () => void) => void)[]>();
  private readonly pacer: BusyPacer;

  /** `firstGuessMs`: a key's time per slot until one is seen; `maxDelayMs`: the furthest turn ever booked. */
  constructor({ firstGuessMs = DESTINATION_FIRST_GUESS_MS, maxDelayMs = DESTINATION_BUSY_MAX_DELAY_MS } = {}) {
    this.pacer = new BusyPacer(firstGuessMs, maxDelayMs);
  }

  /** Milliseconds until the key's next free turn, which this books (see BusyPacer). */
  nextTurn(key: string, cap: number): number {
    return this.pacer.delayFor(key, cap);
  }

  /** Takes a slot and returns its release, or undefined when the destination already has `cap` in flight. */
  tryAcquire(destinationId: string, cap: number): (() => void) | undefined {
    const held = this.inFlight.get(destinationId) ?? 0;
    if (held >= cap) return undefined;
    this.inFlight.set(destinationId, held + 1);
    return this.releaser(destinationId);
  }

  /**
   * As tryAcquire, but when the destination is at its cap and fewer than `cap` jobs already wait, waits up to
   * `maxWaitMs` for a slot to be handed over. Resolves undefined when there is none by then.
   */
  async acquire(destinationId: string, cap: number, maxWaitMs: number): Promise<(() => void) | undefined> {
    const now = this.tryAcquire(destinationId, cap);
    if (now || maxWaitMs <= 0) return now;
    const queue = this.waiting.get(destinationId) ?? [];
    if (queue.length >= cap) return undefined;
    this.waiting.set(destinationId, queue);
    return new Promise((resolve) => {
      const waiter = (release: () => void) => {
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
   * A release records how long the slot was held, then hands it straight to the first waiter, if any; otherwise it
   * frees it. Once only.
   */
  private releaser(destinationId: string): () => void {
    const since = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pacer.observe(destinationId, Date.now() - since);
      const next = this.waiting.get(destinationId)?.shift();
      if (!this.waiting.get(destinationId)?.length) this.waiting.delete(destinationId);
      if (next) return next(this.releaser(destinationId));
      const now = (this.inFlight.get(destinationId) ?? 1) - 1;
      if (now > 0) this.inFlight.set(destinationId, now);
      else this.inFlight.delete(destinationId);
    };
  }
}
