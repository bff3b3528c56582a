/**
 * The full unique-URL flood behind `npm run load` (docs/reliability.md, "Load"): the same
 * checks as flood.test.ts at LOAD_FLOOD_N URLs (default 1,000,000) through `serve`:
 * 1. memory backend, `maxMemory` 64 MiB: the cache's bytes sampled every 10,000 requests
 *    never pass it, and the heap it holds after GC stays within 1.2× of it;
 * 2. a private Redis (started here, never the machine's): every key on the server after
 *    the flood has a TTL.
 * Prints one line per check and exits non-zero when one fails.
 */
import { MemoryCache, RedisCache, TieredCache } from '../../../src/index.js';
import { startRedis } from '../../harness/redis.js';
import { flood, heapAfterGc } from './flood.js';
import { scanAll } from './load.js';

const N = Number(process.env.LOAD_FLOOD_N ?? 1_000_000);
const BOUND = 64 * 1024 * 1024;
const MIB = 1024 * 1024;
let failed = false;

function report(ok: boolean, line: string): void {
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}`);
}

async function memory(): Promise<void> {
  const warm = new MemoryCache({ maxMemory: '1mb' });
  await flood({ cache: warm, n: 2_000, writes: true });
  await warm.stop();
  const cache = new MemoryCache({ maxMemory: BOUND });
  await cache.start();
  let most = 0;
  const t0 = Date.now();
  const result = await flood({
    cache,
    n: N,
    writes: true,
    progress: (done) => {
      most = Math.max(most, cache.stats().bytes ?? 0);
      if (done % 100_000 === 0) {
        const s = Math.round((Date.now() - t0) / 1000);
        console.log(
          `  memory: ${done} requests, ${s} s, cache ${(most / MIB).toFixed(1)} MiB at most`,
        );
      }
    },
  });
  const full = heapAfterGc();
  const stats = cache.stats();
  await cache.clear();
  await cache.stop();
  const held = full - heapAfterGc();
  console.log(
    `memory: ${result.done} requests in ${(result.ms / 1000).toFixed(0)} s (${result.rate.toFixed(0)}/s), statuses ${JSON.stringify([...result.statuses])}, ${stats.evictions} evictions, ${stats.errors} errors`,
  );
  report(most <= BOUND, `cache bytes at most ${most} (bound ${BOUND})`);
  report(
    held <= BOUND * 1.2,
    `heap held by the full cache after GC: ${(held / MIB).toFixed(1)} MiB (${(held / BOUND).toFixed(2)}× the 64 MiB bound; bar 1.2×)`,
  );
  report(stats.errors === 0, 'no cache errors');
}

async function redis(): Promise<void> {
  const server = await startRedis();
  try {
    const cache = new RedisCache({ url: server.url, prefix: 'flood' });
    await cache.start();
    const tiered = new TieredCache({ url: server.url, prefix: 'tiered' });
    await tiered.start();
    const t0 = Date.now();
    const result = await flood({
      cache,
      n: N,
      writes: true,
      progress: (done) => {
        if (done % 100_000 === 0) {
          console.log(`  redis: ${done} requests, ${Math.round((Date.now() - t0) / 1000)} s`);
        }
      },
    });
    for (const c of [cache, tiered]) {
      await c.getOrSet('user:1', () => ({ name: 'a' }), { ttl: '1h', tags: ['users'] });
      await c.invalidateTags(['users']);
    }
    let release!: () => void;
    const holding = cache.getOrSet(
      'slow',
      () => new Promise<number>((r) => (release = () => r(1))),
      {
        ttl: '1m',
      },
    );
    const keys = await scanAll(server.url);
    release?.();
    await holding;
    await tiered.stop();
    await cache.stop();
    const persistent = [...keys].filter(([, pttl]) => !(pttl > 0));
    console.log(
      `redis: ${result.done} requests in ${(result.ms / 1000).toFixed(0)} s (${result.rate.toFixed(0)}/s), statuses ${JSON.stringify([...result.statuses])}, ${keys.size} keys scanned`,
    );
    report(
      persistent.length === 0,
      `keys without a TTL: ${persistent.length}${
        persistent.length > 0
          ? ` (${persistent
              .slice(0, 5)
              .map(([k]) => JSON.stringify(k))
              .join(', ')})`
          : ''
      }`,
    );
    report(result.stats.errors === 0, 'no cache errors');
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  console.log(`unique-URL flood: ${N} URLs through serve, Node ${process.version}`);
  await memory();
  await redis();
  process.exitCode = failed ? 1 : 0;
}

void main();
