/**
 * A string-keyed memo that never holds more than `maxEntries`: when full, the oldest entry goes (FIFO, O(1)).
 * For values that repeat heavily (genders, countries, common cities) hits dominate; a high-cardinality
 * stream just cycles through it at a bounded memory cost.
 *
 * The insertion order lives in a ring of keys, not in the Map: V8 keeps a deleted Map entry as a hole until the
 * table is rebuilt, and `keys().next()` walks past every hole, so evicting through the Map's own order cost
 * about 17 µs per miss once a cache was full.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  /** Keys in insertion order once full: `order[next]` is the oldest. */
  private readonly order: string[] = [];
  private next = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('a cache holds at least one entry');
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    const size = this.entries.size;
    this.entries.set(key, value);
    // A key already held keeps its place in the order.
    if (this.entries.size === size) return;
    if (this.order.length < this.maxEntries) {
      this.order.push(key);
      return;
    }
    const oldest = this.order[this.next]!;
    this.order[this.next] = key;
    this.next = this.next + 1 === this.maxEntries ? 0 : this.next + 1;
    this.entries.delete(oldest);
  }

  get size(): number {
    return this.entries.size;
  }
}
