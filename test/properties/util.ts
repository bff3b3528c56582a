/**
 * Helpers for the property-based bad-input tests: the three backends side by side, each
 * call's outcome in a comparable form, and the run count.
 *
 * Every property runs one random input against MemoryCache, RedisCache and TieredCache and
 * demands the same outcome from all three: the same value, or a `CacheError` with the same
 * code. Anything else thrown (a `TypeError`, a `RangeError` from a buffer write) is an
 * untyped error and fails the property on its own.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import {
  type Cache,
  CacheError,
  type CommonCacheOptions,
  MemoryCache,
  RedisCache,
  TieredCache,
} from '../../src/index.js';

/**
 * How many cases a property runs: `fast` in `npm test` (tuned so the folder stays within its
 * time budget on a loaded 2-core machine), multiplied by `PROPERTY_RUNS` when set
 * (`PROPERTY_RUNS=20 npx vitest run test/properties` runs twenty times as many).
 */
export function runs(fast: number): number {
  const factor = Number(process.env.PROPERTY_RUNS ?? '1');
  return Math.max(1, Math.round(fast * (Number.isFinite(factor) && factor > 0 ? factor : 1)));
}

/** A per-property timeout that grows with {@link runs}. */
export function timeoutFor(fastMs: number): number {
  const factor = Number(process.env.PROPERTY_RUNS ?? '1');
  return Math.round(fastMs * Math.max(1, Number.isFinite(factor) ? factor : 1));
}

/** A call's result, or the code of the `CacheError` it threw, or `UNTYPED` for anything else. */
export type Outcome = { ok: true; value: unknown } | { ok: false; code: string; message?: string };

/** Runs `call` and reports how it ended; Buffers become plain byte arrays so outcomes compare. */
export async function outcome(call: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: plain(await call()) };
  } catch (err) {
    if (err instanceof CacheError) return { ok: false, code: err.code };
    return { ok: false, code: 'UNTYPED', message: String(err) };
  }
}

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `bytes:${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** One label per backend, in the order {@link Trio.all} holds them. */
export const BACKENDS = ['memory', 'redis', 'tiered'] as const;

/** The three backends, started once per test file in a namespace of its own on the shared server. */
export interface Trio {
  memory: MemoryCache;
  redis: RedisCache;
  tiered: TieredCache;
  all: readonly Cache[];
  /** A plain client on the same server, to look at what the caches wrote. */
  raw: Redis;
  /** The namespace every Redis key of this file starts with. */
  namespace: string;
  /** Clears all three caches (only under their prefixes). */
  clear(): Promise<void>;
}

/**
 * Starts a {@link Trio} before the file's tests and stops it after. `options` go to all three
 * (the Redis-backed ones get their prefix inside the file's namespace).
 */
export function useTrio(options: CommonCacheOptions = {}): () => Trio {
  let trio: Trio | undefined;
  beforeAll(async () => {
    const url = inject('redisUrl');
    const namespace = `p${randomUUID()}:`;
    const memory = new MemoryCache({ ...options });
    const redis = new RedisCache({ url, ...options, prefix: `${namespace}r` });
    const tiered = new TieredCache({ url, ...options, prefix: `${namespace}t` });
    await Promise.all([memory.start(), redis.start(), tiered.start()]);
    const all = [memory, redis, tiered] as const;
    trio = {
      memory,
      redis,
      tiered,
      all,
      raw: new Redis(url, { lazyConnect: false }),
      namespace,
      clear: async () => {
        await Promise.all(all.map((c) => c.clear()));
      },
    };
  });
  afterAll(async () => {
    if (!trio) return;
    await trio.clear();
    await Promise.all(trio.all.map((c) => c.stop()));
    trio.raw.disconnect();
  });
  return () => {
    if (!trio) throw new Error('the trio starts in beforeAll');
    return trio;
  };
}

/** Runs `call` on every backend (one after the other, so they see the same sequence). */
export async function onEach(trio: Trio, call: (cache: Cache) => unknown): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const cache of trio.all) out.push(await outcome(() => call(cache)));
  return out;
}

/**
 * Fails unless every backend ended the same way and none threw an untyped error; returns
 * the common outcome.
 */
export function same(outcomes: readonly Outcome[], what: string): Outcome {
  const untyped = outcomes.findIndex((o) => !o.ok && o.code === 'UNTYPED');
  if (untyped !== -1) {
    throw new Error(
      `${what}: ${BACKENDS[untyped]} threw an untyped error: ${(outcomes[untyped] as { message?: string }).message}`,
    );
  }
  const first = JSON.stringify(outcomes[0]);
  outcomes.forEach((o, i) => {
    if (JSON.stringify(o) !== first) {
      throw new Error(
        `${what}: backends disagree: memory ${first.slice(0, 300)} vs ${BACKENDS[i]} ${JSON.stringify(o).slice(0, 300)}`,
      );
    }
  });
  return outcomes[0]!;
}

/** Every Redis key under `namespace`, as bytes. */
export async function rawKeys(raw: Redis, namespace: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await raw.scanBuffer(
      cursor,
      'MATCH',
      `${namespace.replace(/[*?[\]\\]/g, '\\$&')}*`,
      'COUNT',
      1000,
    );
    cursor = next.toString();
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}
