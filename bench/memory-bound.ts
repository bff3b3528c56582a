/**
 * Does `maxMemory` hold in real memory? For each value size, a fresh process (run with
 * `--expose-gc`) fills a `MemoryCache` with `maxMemory: '64mb'` by 2 M writes of distinct
 * keys, then prints how much the heap (plus external memory) grew after a full GC, over
 * `maxMemory`. Small values are where a per-entry overhead that undercounts shows: before
 * calibration 64 MiB of 10-byte values took 99 MiB.
 *
 * Bar: heap growth ≤ 1.2 × `maxMemory` for every value size. `MEMORY_BOUND_WRITES=600000`
 * makes a quicker run (the cache is full and churning after ~300 k writes at 10 B).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryCache } from '../src/index.js';
import { bar, table } from './measure.js';

const MAX_MEMORY = 64 * 2 ** 20;
const SIZES = [10, 100, 1000, 10_000];
const BAR = 1.2;

interface Sample {
  size: number;
  writes: number;
  entries: number;
  bytes: number;
  growth: number;
}

/** One value size, in this process: the heap must have been started with `--expose-gc`. */
async function measure(size: number, writes: number): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('memory-bound needs node --expose-gc');
  const settle = (): number => {
    for (let i = 0; i < 4; i++) gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const value = Buffer.alloc(size, 120);
  const before = settle();
  const cache = new MemoryCache({ maxMemory: MAX_MEMORY });
  for (let i = 0; i < writes; i++) await cache.set(`key:${i}`, value);
  const growth = settle() - before;
  const { entries = 0, bytes = 0 } = cache.stats();
  await cache.stop();
  return { size, writes, entries, bytes, growth };
}

function child(size: number, writes: number): Sample {
  const out = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      '--child',
      `${size}`,
      `${writes}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (out.status !== 0) throw new Error(`memory-bound child for ${size} B exited ${out.status}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as Sample;
}

export async function benchMemoryBound(): Promise<boolean> {
  const writes = Number(process.env.MEMORY_BOUND_WRITES ?? 2_000_000);
  console.log(
    `\n## memory bound (node ${process.version}, ${process.arch}): maxMemory 64 MiB, ${writes} writes, fresh process per size\n`,
  );
  const rows = [
    ['value size', 'entries held', 'bytes counted', 'heap growth', 'growth / maxMemory'],
  ];
  let ok = true;
  for (const size of SIZES) {
    const s = child(size, writes);
    const ratio = s.growth / MAX_MEMORY;
    ok &&= ratio <= BAR;
    rows.push([
      `${size} B`,
      `${s.entries}`,
      `${(s.bytes / 2 ** 20).toFixed(1)} MiB`,
      `${(s.growth / 2 ** 20).toFixed(1)} MiB`,
      ratio.toFixed(3),
    ]);
  }
  table(rows);
  console.log(`bar: heap growth ≤ ${BAR} × maxMemory at every size: ${bar(ok)}`);
  return ok;
}

if (process.argv[2] === '--child') {
  const sample = await measure(Number(process.argv[3]), Number(process.argv[4]));
  console.log(JSON.stringify(sample));
}
