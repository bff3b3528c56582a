/**
 * Memory backend vs the anchors: raw synchronous `lru-cache` and `cache-manager` v7, on the
 * same 100k keys (uniform and Zipf(0.99) order), get-hit, get-miss and set; then the hit
 * ratio of each eviction policy on a seeded Zipf(0.99) trace of 1M requests over 100k keys
 * with room for 10k entries.
 *
 * Guards (issue #12): awaited get-hit ≥ 0.75× the copy ceiling (an awaited `Map.get` plus the
 * same copy our get makes, the best a get that hands out private bytes can do) and ≥ 1.5×
 * cache-manager's awaited get, both in the same run; hit ratio ≥ LRU's. Raw synchronous
 * lru-cache (which hands out references) is printed as a reference figure, not a bar.
 */
import { Buffer } from 'node:buffer';
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
    }
  }
  table(rows);
  for (const [order, keys] of Object.entries(seqs)) {
    console.log(`\nget-hit against the copy ceiling, ${order} (same run):`);
    ok = (await ceiling(ours, keys, order)) && ok;
  }
  await ours.stop();
  await manager.disconnect();
  return ok;
}

/**
 * What any awaited get could reach on this workload, beside ours and the anchors: a bare
 * `Map.get` returned through a promise (no bookkeeping at all), and the same plus the fresh
 * `Buffer` copy the contract requires on every hit (DESIGN §3: a caller can never mutate a
 * cached value through a reference), made the way our store makes it (bytes held as a
 * one-byte string, copied into `Buffer.allocUnsafe` with a latin1 write, `Buffer` imported
 * from `node:buffer` as our modules import it: in Node 20 the global is a getter). The second
 * is the copy ceiling the get-hit bar is measured against.
 */
async function ceiling(
  ours: MemoryCache,
  keys: readonly string[],
  order: string,
): Promise<boolean> {
  const lru = new LRUCache<string, string>({ max: KEYS * 2 });
  const manager = createCacheManager();
  const strings = new Map<string, string>();
  for (let i = 0; i < KEYS; i++) {
    lru.set(keyOf(i), VALUE);
    await manager.set(keyOf(i), VALUE);
    strings.set(keyOf(i), Buffer.from(VALUE).toString('latin1'));
  }
  const copyOut = (k: string): Promise<Buffer | undefined> => {
    const stored = strings.get(k);
    if (stored === undefined) return Promise.resolve(undefined);
    const copy = Buffer.allocUnsafe(stored.length);
    copy.write(stored, 0, 'latin1');
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
    9,
  );
  const [l, c, ceil] = [r.get('lru')!, r.get('cm')!, r.get('copy')!];
  const rows = [
    [
      `awaited get-hit, ${order}`,
      'ops/s',
      'vs copy ceiling',
      'vs cache-manager',
      'vs lru-cache (sync)',
    ],
  ];
  for (const [name, label] of [
    ['bare', 'Map.get through a promise, no copy'],
    ['copy', 'copy ceiling: Map.get + the same copy'],
    ['cm', 'cache-manager 7 get'],
    ['ours', 'codeai-cache MemoryCache.get'],
  ] as const) {
    const o = r.get(name)!;
    rows.push([
      label,
      rate(o),
      `${(o / ceil).toFixed(2)}×`,
      `${(o / c).toFixed(2)}×`,
      `${(o / l).toFixed(2)}×`,
    ]);
  }
  table(rows);
  const o = r.get('ours')!;
  const ok = o / ceil >= 0.75 && o / c >= 1.5;
  console.log(`bar: get-hit ≥ 0.75× the copy ceiling and ≥ 1.5× cache-manager: ${bar(ok)}`);
  await manager.disconnect();
  return ok;
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
