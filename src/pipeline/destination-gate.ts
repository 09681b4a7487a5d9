/**
 * Attempts in flight per destination in this process. A destination at its cap gets no more worker slots: its next
 * job goes back to the queue for a while (see DeliverJob), so slow receivers can hold `cap` slots each and never
 * every slot. Counting in memory keeps the check off Postgres, which every attempt already visits twice; with N
 * worker processes a receiver sees at most N × cap connections from the hub.
 */
export class DestinationGate {
  private readonly inFlight = new Map<string, number>();

  /** Takes a slot and returns its release, or undefined when the destination already has `cap` in flight. */
  tryAcquire(destinationId: string, cap: number): (() => void) | undefined {
    const held = this.inFlight.get(destinationId) ?? 0;
    if (held >= cap) return undefined;
    this.inFlight.set(destinationId, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.inFlight.get(destinationId) ?? 1) - 1;
      if (now > 0) this.inFlight.set(destinationId, now);
      else this.inFlight.delete(destinationId);
    };
  }

  held(destinationId: string): number {
    return this.inFlight.get(destinationId) ?? 0;
  }
}
