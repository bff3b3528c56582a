/**
 * TieredCache against its parts, on a private redis-server this suite starts and stops.
 *
 * 1. Hit cost: a TieredCache L1 hit vs a MemoryCache hit vs a RedisCache hit (awaited `get`
 *    of a 100-byte value; CPU time per operation, median of interleaved rounds).
 *    Bar: an L1 hit costs at most 1.5× a MemoryCache hit.
 * 2. Invalidation latency, process A → process B: A `set`s a key, B (another process,
 *    bench/tiered-reader.ts) polls `get` every millisecond and reports when it first serves the new value,
 *    on the machine's monotonic clock. Bar: p99 ≤ 50 ms.
 * 3. Cost per write: TieredCache `set` (Redis write + L1 write + PUBLISH) vs RedisCache
 *    `set`, CPU time per write in this process and redis-server's CPU per write.
 * 4. The coherence mechanisms compared on raw connections: Pub/Sub (one PUBLISH after each
 *    write) vs server-assisted tracking (`CLIENT TRACKING ON BCAST PREFIX`, Redis sends the
 *    invalidation itself): delivery latency and redis-server CPU per write, and the number
 *    of messages a 1,000-key pattern delete costs each.
 * 5. getOrSet hit on a ~1 KB object: MemoryCache, TieredCache (bytes), TieredCache with
 *    `l1: { serialize: false }`, and bentocache with a memory-only store, default and
 *    `serialize: false` (CPU time per call, interleaved rounds). Bars: our default getOrSet
 *    hit (MemoryCache and TieredCache bytes) ≥ 3× bentocache's default; the object L1 ≥ 1×
 *    bentocache with `serialize: false`.
 */
import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { Redis } from 'ioredis';
import { MemoryCache, RedisCache, TieredCache, type TieredCacheOptions } from '../src/index.js';
import { type RedisServer, startRedis } from '../test/harness/redis.js';
import { bar, table } from './measure.js';

const KEYS = 10_000;
const VALUE = Buffer.alloc(100, 'v');
const keyOf = (i: number): string => `k:${(i * 7919) % KEYS}`;

type Op = (i: number) => unknown;

/** CPU µs per call of `op`, awaited one at a time, `n` calls. */
async function cpuPerOp(op: Op, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await op(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

/** Median CPU µs/op of each contender over interleaved rounds. */
async function compareCpu(ops: Record<string, [Op, number]>, rounds = 7) {
  const got: Record<string, number[]> = {};
  for (const [name, [op, n]] of Object.entries(ops)) {
    await cpuPerOp(op, Math.min(n, 20_000));
    got[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, [op, n]] of Object.entries(ops)) got[name]!.push(await cpuPerOp(op, n));
  }
  return Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)]));
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function percentile(list: number[], p: number): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** redis-server's CPU seconds so far (user + system). */
async function serverCpu(server: RedisServer): Promise<number> {
  const info = await server.cli('INFO', 'cpu');
  const get = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
  return get('used_cpu_sys') + get('used_cpu_user');
}

const us = (v: number): string => `${v.toFixed(3)} µs`;
const ms = (v: number): string => `${v.toFixed(2)} ms`;

async function hitCost(server: RedisServer): Promise<boolean> {
  const memory = new MemoryCache({ maxMemory: '64mb' });
  const redis = new RedisCache({ url: server.url, prefix: 'b-redis' });
  const tiered = new TieredCache({ url: server.url, prefix: 'b-tiered', l1: { ttl: '1h' } });
  await Promise.all([memory.start(), redis.start(), tiered.start()]);
  for (let i = 0; i < KEYS; i++) {
    await memory.set(keyOf(i), VALUE);
    await redis.set(keyOf(i), VALUE);
    await tiered.set(keyOf(i), VALUE);
  }
  const cpu = await compareCpu({
    memory: [(i) => memory.get(keyOf(i)), 200_000],
    tiered: [(i) => tiered.get(keyOf(i)), 200_000],
    redis: [(i) => redis.get(keyOf(i)), 5_000],
  });
  const ratio = cpu.tiered! / cpu.memory!;
  const ok = ratio <= 1.5;
  console.log('\n## tiered: get hit, CPU per call (median of 7 interleaved rounds)');
  table([
    ['contender', 'CPU/op', 'vs MemoryCache'],
    ['MemoryCache hit', us(cpu.memory!), '1.00×'],
    ['TieredCache L1 hit', us(cpu.tiered!), `${ratio.toFixed(2)}×`],
    ['RedisCache hit', us(cpu.redis!), `${(cpu.redis! / cpu.memory!).toFixed(2)}×`],
  ]);
  console.log(`${bar(ok)} L1 hit ≤ 1.5× a MemoryCache hit (${ratio.toFixed(2)}×)`);

  // Cost per write, this process's CPU and the server's.
  const writes = 20_000;
  const before = await serverCpu(server);
  const redisWrite = await cpuPerOp((i) => redis.set(keyOf(i), VALUE), writes);
  const mid = await serverCpu(server);
  const tieredWrite = await cpuPerOp((i) => tiered.set(keyOf(i), VALUE), writes);
  const after = await serverCpu(server);
  console.log('\n## tiered: cost per write (set of 100 bytes, sequential)');
  table([
    ['contender', 'client CPU/op', 'redis-server CPU/op'],
    ['RedisCache set', us(redisWrite), us(((mid - before) * 1e6) / writes)],
    ['TieredCache set (+L1, +PUBLISH)', us(tieredWrite), us(((after - mid) * 1e6) / writes)],
  ]);
  await Promise.all([memory.stop(), redis.stop(), tiered.stop()]);
  return ok;
}

async function invalidationLatency(server: RedisServer): Promise<boolean> {
  const options: TieredCacheOptions = { url: server.url, prefix: 'b-latency', l1: { ttl: '1h' } };
  const writer = new TieredCache(options);
  await writer.start();
  await writer.set('hot', '0');
  const reader = fork(fileURLToPath(new URL('./tiered-reader.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TIERED_OPTIONS: JSON.stringify(options), TIERED_KEY: 'hot' },
  });
  const seen = new Map<string, bigint>();
  let waiting: { value: string; resolve: () => void } | undefined;
  await new Promise<void>((resolve) => {
    reader.on('message', (m: { ready?: boolean; value?: string; at?: string }) => {
      if (m.ready) return resolve();
      if (m.value === undefined || m.at === undefined) return;
      seen.set(m.value, BigInt(m.at));
      if (waiting?.value === m.value) waiting.resolve();
    });
  });
  const until = (value: string) =>
    seen.has(value)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          waiting = { value, resolve };
        });
  await until('0');
  const latencies: number[] = [];
  const rounds = 500;
  for (let i = 1; i <= rounds; i++) {
    const value = String(i);
    const t0 = process.hrtime.bigint();
    await writer.set('hot', value);
    await until(value);
    latencies.push(Number(seen.get(value)! - t0) / 1e6);
    // A short random pause, so writes do not line up with the reader's loop.
    await new Promise((r) => setTimeout(r, Math.random() * 3));
  }
  reader.disconnect();
  await writer.stop();
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  const ok = p99 <= 50;
  console.log(
    `\n## tiered: invalidation latency, set on process A → B serves it (${rounds} writes)`,
  );
  table([
    ['p50', 'p90', 'p99', 'max'],
    [ms(p50), ms(percentile(latencies, 90)), ms(p99), ms(Math.max(...latencies))],
  ]);
  console.log(`${bar(ok)} p99 ≤ 50 ms (${ms(p99)})`);
  return ok;
}

/** Pub/Sub vs CLIENT TRACKING BCAST on raw connections: latency, server CPU, messages. */
async function mechanisms(server: RedisServer): Promise<void> {
  const writes = 5_000;
  const rows: string[][] = [
    ['mechanism', 'delivery p50', 'delivery p99', 'server CPU/write', '1k-key delete: messages'],
  ];
  for (const mechanism of ['pubsub', 'tracking'] as const) {
    const writer = new Redis(server.port, server.host);
    // RESP2 for the subscriber: a tracking redirect reaches a RESP3 connection as a push
    // message ioredis does not surface; on RESP2 it is an ordinary Pub/Sub message.
    const sub = new Redis({ port: server.port, host: server.host, protocol: 2 });
    const tracked = new Redis(server.port, server.host);
    let received = 0;
    let bytes = 0;
    let onMessage: (() => void) | undefined;
    sub.on('message', (_channel: string, message: unknown) => {
      received++;
      bytes += String(message).length;
      onMessage?.();
    });
    if (mechanism === 'pubsub') {
      await sub.subscribe('bench:inv');
    } else {
      const id = Number(await sub.client('ID'));
      await sub.subscribe('__redis__:invalidate');
      // BCAST: Redis itself sends the key of every write under the prefix to `sub`.
      await tracked.call(
        'CLIENT',
        'TRACKING',
        'ON',
        'REDIRECT',
        String(id),
        'BCAST',
        'PREFIX',
        'm:',
      );
      await tracked.ping();
    }
    const write = async (i: number): Promise<void> => {
      await writer.set(`m:${i % 100}`, 'v');
      if (mechanism === 'pubsub')
        await writer.publish('bench:inv', `{"i":"x","k":["m:${i % 100}"]}`);
    };
    const latencies: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = process.hrtime.bigint();
      const got = new Promise<void>((r) => {
        onMessage = r;
      });
      await write(i);
      await Promise.race([got, new Promise((r) => setTimeout(r, 2_000))]);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    onMessage = undefined;
    const before = await serverCpu(server);
    for (let i = 0; i < writes; i++) await write(i);
    const after = await serverCpu(server);
    // A pattern delete of 1,000 keys: one glob for Pub/Sub, every key's name for tracking.
    const keys = Array.from({ length: 1000 }, (_, i) => `m:del:${i}`);
    await writer.mset(keys.flatMap((k) => [k, 'v']));
    received = 0;
    bytes = 0;
    await writer.unlink(...keys);
    if (mechanism === 'pubsub') await writer.publish('bench:inv', '{"i":"x","p":"m:del:*"}');
    await writer.ping();
    await sub.ping().catch(() => {}); // A subscribed connection answers PING too.
    await new Promise((r) => setTimeout(r, 200));
    rows.push([
      mechanism === 'pubsub' ? 'Pub/Sub (chosen)' : 'CLIENT TRACKING BCAST',
      ms(percentile(latencies, 50)),
      ms(percentile(latencies, 99)),
      us(((after - before) * 1e6) / writes),
      `${received} (${bytes} bytes)`,
    ]);
    writer.disconnect();
    sub.disconnect();
    tracked.disconnect();
  }
  console.log('\n## tiered: coherence mechanisms on raw connections (same server, same process)');
  table(rows);
}

async function objectHits(server: RedisServer): Promise<boolean> {
  const doc = {
    id: 42,
    title: 'A post about caching',
    body: 'x'.repeat(600),
    tags: ['cache', 'redis', 'node'],
    author: { id: 7, name: 'Ada', roles: ['editor', 'admin'] },
    stats: { views: 12_345, likes: 678, comments: [1, 2, 3, 4, 5] },
  };
  const memory = new MemoryCache();
  const bytes = new TieredCache({ url: server.url, prefix: 'b-obj-bytes' });
  const objects = new TieredCache({
    url: server.url,
    prefix: 'b-obj',
    l1: { serialize: false, freeze: true },
  });
  // bentocache with a memory-only store, as its docs configure one; room for every key
  // (its memory driver keeps 1,000 items by default, exactly the key count here).
  const bento = new BentoCache({
    default: 'm',
    stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
  });
  const bentoObjects = new BentoCache({
    default: 'm',
    stores: { m: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize: false })) },
  });
  await Promise.all([memory.start(), bytes.start(), objects.start()]);
  const keys = Array.from({ length: 1000 }, (_, i) => `doc:${i}`);
  const factory = () => doc;
  for (const k of keys) {
    for (const c of [memory, bytes, objects]) await c.getOrSet(k, factory, { ttl: '1h' });
    for (const b of [bento, bentoObjects]) await b.getOrSet({ key: k, factory, ttl: '1h' });
  }
  const cpu = await compareCpu({
    memory: [(i) => memory.getOrSet(keys[i % 1000]!, factory, { ttl: '1h' }), 100_000],
    bytes: [(i) => bytes.getOrSet(keys[i % 1000]!, factory, { ttl: '1h' }), 100_000],
    objects: [(i) => objects.getOrSet(keys[i % 1000]!, factory, { ttl: '1h' }), 100_000],
    bento: [(i) => bento.getOrSet({ key: keys[i % 1000]!, factory, ttl: '1h' }), 100_000],
    bentoObjects: [
      (i) => bentoObjects.getOrSet({ key: keys[i % 1000]!, factory, ttl: '1h' }),
      100_000,
    ],
  });
  // Speed-ups over bentocache: its CPU per call over ours. Our default getOrSet (values kept
  // as bytes, a fresh copy parsed on each hit) against bentocache's default (values kept as
  // JSON strings, parsed on each hit); our object L1 against its `serialize: false`.
  const speedup = (ours: number, theirs: number): number => theirs / ours;
  const memoryVsBento = speedup(cpu.memory!, cpu.bento!);
  const bytesVsBento = speedup(cpu.bytes!, cpu.bento!);
  const objectsVsBento = speedup(cpu.objects!, cpu.bentoObjects!);
  const x = (v: number): string => `${v.toFixed(2)}×`;
  console.log(
    '\n## tiered: getOrSet hit on a ~1 KB object, CPU per call (median of 7 interleaved rounds)',
  );
  table([
    ['contender', 'CPU/op', 'vs MemoryCache', 'bentocache twin ÷ this'],
    ['MemoryCache', us(cpu.memory!), '1.00×', x(memoryVsBento)],
    ['TieredCache (bytes)', us(cpu.bytes!), x(cpu.bytes! / cpu.memory!), x(bytesVsBento)],
    [
      'TieredCache (serialize: false)',
      us(cpu.objects!),
      x(cpu.objects! / cpu.memory!),
      x(objectsVsBento),
    ],
    ['bentocache memory (default)', us(cpu.bento!), x(cpu.bento! / cpu.memory!), '—'],
    [
      'bentocache memory (serialize: false)',
      us(cpu.bentoObjects!),
      x(cpu.bentoObjects! / cpu.memory!),
      '—',
    ],
  ]);
  const memoryOk = memoryVsBento >= 3;
  const bytesOk = bytesVsBento >= 3;
  const objectsOk = objectsVsBento >= 1;
  console.log(
    `${bar(memoryOk)} MemoryCache getOrSet hit ≥ 3× bentocache default (${x(memoryVsBento)})`,
  );
  console.log(
    `${bar(bytesOk)} TieredCache (bytes) getOrSet hit ≥ 3× bentocache default (${x(bytesVsBento)})`,
  );
  console.log(
    `${bar(objectsOk)} TieredCache object L1 getOrSet hit ≥ 1× bentocache serialize: false (${x(objectsVsBento)})`,
  );
  await Promise.all([
    memory.stop(),
    bytes.stop(),
    objects.stop(),
    bento.disconnect(),
    bentoObjects.disconnect(),
  ]);
  return memoryOk && bytesOk && objectsOk;
}

/** The tiered suite; resolves to whether every bar passed. */
export async function benchTiered(): Promise<boolean> {
  const server = await startRedis();
  try {
    console.log(`\n# tiered (Node ${process.version}, private redis-server on ${server.url})`);
    const hits = await hitCost(server);
    const latency = await invalidationLatency(server);
    await mechanisms(server);
    const objectHitsOk = await objectHits(server);
    return hits && latency && objectHitsOk;
  } finally {
    await server.stop();
  }
}
