/**
 * The reading process of the invalidation-latency benchmark (bench/tiered.ts): one
 * TieredCache polling one key every millisecond (an L1 hit until the invalidation lands,
 * then one Redis read), reporting each new value it serves with the
 * monotonic clock, which every process on the machine shares.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TieredCache, type TieredCacheOptions } from '../src/index.js';

const options = JSON.parse(process.env.TIERED_OPTIONS ?? '{}') as TieredCacheOptions;
const key = process.env.TIERED_KEY ?? 'hot';
const cache = new TieredCache(options);
await cache.start();
let last: string | undefined;
let running = true;
process.on('disconnect', () => {
  running = false;
});
process.send?.({ ready: true });
while (running) {
  const value = (await cache.get(key))?.toString();
  if (value !== last) {
    last = value;
    process.send?.({ value, at: process.hrtime.bigint().toString() });
  }
  // Every millisecond, not in a tight loop: a spinning reader would take a core of this
  // 2-core machine from the writer and Redis, and measure its own interference.
  await sleep(1);
}
await cache.stop();
