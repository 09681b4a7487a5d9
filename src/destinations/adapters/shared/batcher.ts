/**
 * How long a CRM batch waits for company after its first write. Deliveries for one destination arrive at the
 * pipeline's pace (~150/s here), so 25 ms made batches of 6 (0.15 HTTP requests per record in `npm run bench`);
 * 100 ms reaches the issue's ≤ 0.1 at the cost of a tenth of a second on a CRM write.
 */
export const CRM_BATCH_WINDOW_MS = 100;

/**
 * Collects items that arrive together for one key (a destination) and hands them to `flush` as one batch: when
 * `maxSize` items are waiting, or `windowMs` after the first one. Each caller gets its own item's result, so the
 * deliver job still records one outcome per delivery while the CRM sees one request per batch (issue 8).
 */
export class Batcher<TItem, TResult> {
  private readonly pending = new Map<
    string,
    {
      items: TItem[];
      waiters: { resolve: (r: TResult) => void; reject: (e: unknown) => void }[];
      timer: NodeJS.Timeout;
    }
  >();

  constructor(
    private readonly options: { maxSize: number; windowMs: number },
    private readonly flush: (key: string, items: TItem[]) => Promise<TResult[]>,
  ) {}

  add(key: string, item: TItem): Promise<TResult> {
    return new Promise<TResult>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { items: [], waiters: [], timer: setTimeout(() => this.run(key), this.options.windowMs) };
        this.pending.set(key, batch);
      }
      batch.items.push(item);
      batch.waiters.push({ resolve, reject });
      if (batch.items.length >= this.options.maxSize) this.run(key);
    });
  }

  private run(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    this.pending.delete(key);
    clearTimeout(batch.timer);
    this.flush(key, batch.items).then(
      (results) => batch.waiters.forEach((waiter, i) => waiter.resolve(results[i])),
      (err: unknown) => batch.waiters.forEach((waiter) => waiter.reject(err)),
    );
  }
}
