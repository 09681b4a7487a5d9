/**
 * Values computed from a key and kept, for keys that are few and seldom change (sealed secrets, event-type globs,
 * target URLs). Past `max` keys it starts over rather than tracking use: a hub has a handful of each, so a full memo
 * means something churns, and recomputing is only a cost. A compute that throws keeps nothing.
 */
export class BoundedMemo<K, V> {
  private readonly values = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K, compute: (key: K) => V): V {
    let value = this.values.get(key);
    if (value === undefined) {
      value = compute(key);
      if (this.values.size >= this.max) this.values.clear();
      this.values.set(key, value);
    }
    return value;
  }
}
