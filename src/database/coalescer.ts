import { isTransientError } from '../common/transient-error';

/**
 * A batch's rows back to its calls, by id: a row goes to the first call for its id; a later call for the same id
 * (two jobs for one row in one batch) and a call whose row did not come back get undefined.
 */
export function firstCallGets<T extends { id: string }>(rows: T[], ids: string[]): (T | undefined)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    byId.delete(id);
    return row;
  });
}

interface Call<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for one hot-path statement (issue 11). Calls go out at the end of the event loop's turn in which they
 * were made (setImmediate), together: the answers Postgres, the mapping threads and the receivers sent while the hub
 * was busy are handled in one turn, and their statements share a batch instead of going one by one. An idle hub
 * waits for nothing but the end of the current turn. Calls made while `maxInFlight` batches are running queue up and
 * go together in the next batch: under load, N events cost one round trip, one plan and one commit, not N.
 *
 * `runBatch` answers each input, in order. A batch that fails for a reason other than "Postgres is unavailable" is
 * tried again one call at a time, so one bad row fails only its own call. `weight` bounds what one batch carries
 * (a call heavier than `max` still goes, alone), so a burst of large rows never becomes one huge statement.
 */
export class Coalescer<I, O> {
  private readonly waiting: Call<I, O>[] = [];
  private running = 0;
  /** A pump is due at the end of this turn of the event loop. */
  private due = false;

  constructor(
    private readonly runBatch: (inputs: I[]) => Promise<O[]>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 256,
    private readonly weight?: { of: (input: I) => number; max: number },
  ) {}

  run(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      if (this.due) return;
      this.due = true;
      setImmediate(() => {
        this.due = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    while (this.running < this.maxInFlight && this.waiting.length) {
      const batch = this.waiting.splice(0, this.batchSize());
      this.running++;
      void this.execute(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /** How many waiting calls the next batch takes: up to maxBatch, and within the weight limit if there is one. */
  private batchSize(): number {
    const limit = Math.min(this.maxBatch, this.waiting.length);
    if (!this.weight) return limit;
    let count = 0;
    let total = 0;
    while (count < limit) {
      total += this.weight.of(this.waiting[count].input);
      if (count > 0 && total > this.weight.max) break;
      count++;
    }
    return count;
  }

  private async execute(batch: Call<I, O>[]): Promise<void> {
    try {
      const outputs = await this.runBatch(batch.map((call) => call.input));
      batch.forEach((call, i) => call.resolve(outputs[i]));
    } catch (err) {
      if (batch.length === 1 || isTransientError(err)) {
        batch.forEach((call) => call.reject(err));
        return;
      }
      for (const call of batch) {
        try {
          call.resolve((await this.runBatch([call.input]))[0]);
        } catch (single) {
          call.reject(single);
        }
      }
    }
  }
}
