import { type Entry, EntryList, Queue } from './entry.js';
import type { EvictionPolicy } from './policy.js';

/**
 * Plain least-recently-used eviction: one list, hits move to the tail, the head goes
 * first. Kept as the simple, predictable alternative and as the baseline the benchmark
 * compares W-TinyLFU against.
 */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru';
  readonly #list = new EntryList(Queue.WINDOW);

  add(entry: Entry): void {
    this.#list.push(entry);
  }

  touch(entry: Entry): void {
    this.#list.moveToTail(entry);
  }

  miss(_key: string): void {}

  reweigh(entry: Entry, weight: number): void {
    this.#list.weight += weight - entry.weight;
    entry.weight = weight;
  }

  remove(entry: Entry): void {
    this.#list.unlink(entry);
  }

  victim(keep: Entry | null): Entry | undefined {
    const head = this.#list.head;
    return (head === keep ? head?.next : head) ?? undefined;
  }

  clear(): void {
    this.#list.reset();
  }
}
