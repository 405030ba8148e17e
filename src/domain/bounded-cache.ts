/**
 * A string-keyed memo that never holds more than `maxEntries`: when full, the oldest entry goes (FIFO, O(1)).
 * For values that repeat heavily (genders, countries, common cities) hits dominate; a high-cardinality
 * stream just cycles through it at a bounded memory cost.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}
