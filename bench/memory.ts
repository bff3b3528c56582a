/**
 * Memory backend vs the anchors: raw synchronous `lru-cache` and `cache-manager` v7, on the
 * same 100k keys (uniform and Zipf(0.99) order), get-hit, get-miss and set; then the hit
 * ratio of each eviction policy on a seeded Zipf(0.99) trace of 1M requests over 100k keys
 * with room for 10k entries.
 *
 * Guards: awaited get-hit ≥ 5× cache-manager's and ≥ 0.5× raw lru-cache's; hit ratio ≥ LRU's.
 */
import { createCache as createCacheManager } from 'cache-manager';
import { LRUCache } from 'lru-cache';
import { MemoryCache } from '../src/index.js';
import { zipfTrace } from '../src/stores/memory/zipf.js';
import { bar, type Contender, compare, rate, table } from './measure.js';

const KEYS = 100_000;
const VALUE = 'v'.repeat(100);
const keyOf = (i: number): string => `key:${i}`;

function sequences(): Record<string, string[]> {
  const uniform: string[] = [];
  let seed = 12345;
  for (let i = 0; i < KEYS * 5; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    uniform.push(keyOf(seed % KEYS));
  }
  const zipf = Array.from(zipfTrace({ keys: KEYS, requests: KEYS * 5, s: 0.99, seed: 7 }), keyOf);
  return { uniform, zipf };
}

async function throughput(): Promise<boolean> {
  const ours = new MemoryCache({ maxMemory: '256mb' });
  await ours.start();
  const lru = new LRUCache<string, string>({ max: KEYS * 2 });
  const manager = createCacheManager();
  for (let i = 0; i < KEYS; i++) {
    await ours.set(keyOf(i), VALUE);
    lru.set(keyOf(i), VALUE);
    await manager.set(keyOf(i), VALUE);
  }
  const missKeys = Array.from({ length: KEYS * 5 }, (_, i) => `absent:${i % KEYS}`);
  let ok = true;
  const rows: string[][] = [
    ['workload', 'codeai-cache', 'lru-cache (sync)', 'cache-manager 7', 'ours/lru', 'ours/cm'],
  ];
  const seqs = sequences();
  for (const [order, keys] of Object.entries(seqs)) {
    const workloads: [string, Contender[], string[]][] = [
      [
        `get-hit ${order}`,
        [
          { name: 'ours', async: true, op: (k) => ours.get(k) },
          { name: 'lru', async: false, op: (k) => lru.get(k) },
          { name: 'cm', async: true, op: (k) => manager.get(k) },
        ],
        keys,
      ],
      [
        `set ${order}`,
        [
          { name: 'ours', async: true, op: (k) => ours.set(k, VALUE) },
          { name: 'lru', async: false, op: (k) => lru.set(k, VALUE) },
          { name: 'cm', async: true, op: (k) => manager.set(k, VALUE) },
        ],
        keys,
      ],
    ];
    if (order === 'uniform') {
      workloads.splice(1, 0, [
        'get-miss',
        [
          { name: 'ours', async: true, op: (k) => ours.get(k) },
          { name: 'lru', async: false, op: (k) => lru.get(k) },
          { name: 'cm', async: true, op: (k) => manager.get(k) },
        ],
        missKeys,
      ]);
    }
    for (const [name, contenders, seq] of workloads) {
      const r = await compare(contenders, seq);
      const [o, l, c] = [r.get('ours')!, r.get('lru')!, r.get('cm')!];
      rows.push([name, rate(o), rate(l), rate(c), (o / l).toFixed(2), (o / c).toFixed(1)]);
      if (name.startsWith('get-hit')) ok &&= o / l >= 0.5 && o / c >= 5;
    }
  }
  table(rows);
  console.log(`bar: awaited get-hit ≥ 0.5× lru-cache and ≥ 5× cache-manager: ${bar(ok)}`);
  console.log('\nceiling of any awaited get on the same keys (same run):');
  await ceiling(ours, seqs.uniform!);
  await ours.stop();
  await manager.disconnect();
  return ok;
}

/**
 * What any awaited get could reach on this workload, beside ours and the anchors: a bare
 * `Map.get` returned through a promise (no bookkeeping at all), and the same plus the fresh
 * `Buffer` copy the contract requires on every hit (DESIGN §3: a caller can never mutate a
 * cached value through a reference). These bound the get-hit bar from above.
 */
async function ceiling(ours: MemoryCache, keys: readonly string[]): Promise<void> {
  const lru = new LRUCache<string, string>({ max: KEYS * 2 });
  const manager = createCacheManager();
  const strings = new Map<string, string>();
  const bytes = new Map<string, Buffer>();
  for (let i = 0; i < KEYS; i++) {
    lru.set(keyOf(i), VALUE);
    await manager.set(keyOf(i), VALUE);
    strings.set(keyOf(i), VALUE);
    bytes.set(keyOf(i), Buffer.from(VALUE));
  }
  const copyOut = (k: string): Promise<Buffer | undefined> => {
    const stored = bytes.get(k);
    if (stored === undefined) return Promise.resolve(undefined);
    const copy = Buffer.allocUnsafe(stored.length);
    copy.set(stored);
    return Promise.resolve(copy);
  };
  const r = await compare(
    [
      { name: 'lru', async: false, op: (k) => lru.get(k) },
      { name: 'cm', async: true, op: (k) => manager.get(k) },
      { name: 'bare', async: true, op: (k) => Promise.resolve(strings.get(k)) },
      { name: 'copy', async: true, op: copyOut },
      { name: 'ours', async: true, op: (k) => ours.get(k) },
    ],
    keys,
  );
  const [l, c] = [r.get('lru')!, r.get('cm')!];
  const rows = [['awaited get-hit, uniform', 'ops/s', 'vs lru-cache', 'vs cache-manager']];
  for (const [name, label] of [
    ['bare', 'Map.get through a promise, no copy'],
    ['copy', 'Map.get + fresh Buffer copy'],
    ['ours', 'codeai-cache MemoryCache.get'],
  ] as const) {
    const o = r.get(name)!;
    rows.push([label, rate(o), `${(o / l).toFixed(2)}×`, `${(o / c).toFixed(1)}×`]);
  }
  table(rows);
  await manager.disconnect();
}

async function hitRatio(): Promise<boolean> {
  const trace = zipfTrace({ keys: KEYS, requests: 1_000_000, s: 0.99, seed: 42 });
  const capacity = 10_000;
  const results: [string, number][] = [];
  for (const eviction of ['tinylfu', 'lru'] as const) {
    const cache = new MemoryCache({ maxEntries: capacity, maxMemory: '1gb', eviction });
    let hits = 0;
    for (const i of trace) {
      const key = keyOf(i);
      if ((await cache.get(key)) !== undefined) hits++;
      else await cache.set(key, 'x');
    }
    results.push([`codeai-cache ${eviction}`, hits / trace.length]);
    await cache.stop();
  }
  const lru = new LRUCache<string, string>({ max: capacity });
  let hits = 0;
  for (const i of trace) {
    const key = keyOf(i);
    if (lru.get(key) !== undefined) hits++;
    else lru.set(key, 'x');
  }
  results.push(['lru-cache', hits / trace.length]);
  table([
    ['policy (Zipf 0.99, 1M req, 100k keys, 10k slots)', 'hit ratio'],
    ...results.map(([n, h]) => [n, `${(h * 100).toFixed(1)} %`]),
  ]);
  const ok = results[0]![1] >= results[2]![1];
  console.log(`bar: tinylfu hit ratio ≥ LRU's: ${bar(ok)}`);
  return ok;
}

export async function benchMemory(): Promise<boolean> {
  console.log(`\n## memory backend (node ${process.version}, ${process.arch})\n`);
  const a = await throughput();
  console.log('');
  const b = await hitRatio();
  return a && b;
}
