/**
 * When a key (a destination, a source) is at its cap and its waiters are full, the jobs it sends back to the queue should come
 * back about when a slot is free, not all together. Each postponed job gets the next free turn: turns are spaced
 * by the key's recent time per job divided by its cap, so a backlog of n jobs comes back over n × time / cap, each
 * job about once, instead of every job bouncing through Redis every few hundred milliseconds until its turn comes.
 * In memory and per process, like DestinationGate.
 */
export class BusyPacer {
  private readonly turns = new Map<string, number>();
  private readonly averageMs = new Map<string, number>();

  constructor(
    private readonly firstGuessMs: number,
    private readonly maxDelayMs: number,
  ) {}

  /** Records how long one job of the key held its slot (an exponentially weighted average). */
  observe(key: string, ms: number): void {
    const before = this.averageMs.get(key);
    this.averageMs.set(key, before === undefined ? ms : before * 0.8 + ms * 0.2);
  }

  /** The delay until the key's next free turn, which it books; at least one turn, at most maxDelayMs. */
  delayFor(key: string, cap: number, now = Date.now()): number {
    const turnMs = (this.averageMs.get(key) ?? this.firstGuessMs) / Math.max(1, cap);
    const booked = this.turns.get(key);
    const at = Math.min(Math.max(now, booked ?? now) + turnMs, now + this.maxDelayMs);
    this.turns.set(key, at);
    return Math.max(1, Math.round(at - now));
  }
}
