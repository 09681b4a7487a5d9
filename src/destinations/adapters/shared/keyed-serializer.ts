/**
 * Runs work for one key (a destination and subject) one after another in this process, so an attempt reads the
 * ledger only after the previous attempt on the same record wrote it: two states of one record delivered at once
 * cannot both pass the stale check. A failure of one run does not stop the next.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tails.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === current) this.tails.delete(key);
    }
  }
}
