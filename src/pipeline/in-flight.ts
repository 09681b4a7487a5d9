/**
 * Work a job runs in-process, outside BullMQ (issue 11: normalisations straight from ingest, first delivery attempts
 * straight from normalisation): counted, so the caller can bound it, and drained at shutdown before Postgres closes.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  /** Runs in flight now. */
  get size(): number {
    return this.running.size;
  }

  /** Shutting down: start nothing new. */
  get closing(): boolean {
    return this.closed;
  }

  /** Tracks a run until it settles. */
  add(run: Promise<unknown>): void {
    const tracked = run.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** Shutdown: closes, then waits for every run in flight, failed ones included, and for any a run starts meanwhile. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
