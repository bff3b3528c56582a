/**
 * Write batching (src/stores/redis/write-batching.ts) on a real server: commands sent while
 * others are in flight share one socket write, a command on an idle connection is written
 * at once, and replies still come back in the order the commands were sent.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { MAX_BATCH } from '../../src/stores/redis/write-batching.js';

const caches: RedisCache[] = [];

afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function started(): Promise<{ cache: RedisCache; client: Redis }> {
  const cache = new RedisCache({ url: inject('redisUrl'), prefix: `wb${randomUUID()}` });
  caches.push(cache);
  await cache.start();
  return { cache, client: cache.client as Redis };
}

/** Counts `cork()` calls on the client's socket while `run` runs. */
async function corks(client: Redis, run: () => Promise<unknown>): Promise<number> {
  const stream = client.stream;
  const cork = stream.cork;
  let count = 0;
  stream.cork = function (this: typeof stream) {
    count++;
    return cork.call(this);
  };
  try {
    await run();
  } finally {
    stream.cork = cork;
  }
  return count;
}

describe('write batching', () => {
  it('writes a command on an idle connection at once, without corking', async () => {
    const { cache, client } = await started();
    const n = await corks(client, async () => {
      for (let i = 0; i < 20; i++) await cache.get(`k${i}`);
    });
    expect(n).toBe(0);
  });

  it('batches the commands sent in one tick while others are in flight', async () => {
    const { cache, client } = await started();
    const n = await corks(client, () =>
      Promise.all(Array.from({ length: 200 }, (_, i) => cache.get(`k${i}`))),
    );
    // The first command is written alone; the other 199, sent in the same tick, share a
    // cork per MAX_BATCH commands.
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(Math.ceil(200 / MAX_BATCH));
  });

  it('keeps the order of commands: each reply answers its own command', async () => {
    const { cache } = await started();
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      ops.push(cache.set('k', String(i)));
      ops.push(cache.get('k').then((b) => b?.toString()));
      ops.push(cache.incr('n'));
    }
    const results = await Promise.all(ops);
    for (let i = 0; i < 300; i++) {
      expect(results[3 * i + 1]).toBe(String(i));
      expect(results[3 * i + 2]).toBe(i + 1);
    }
  });
});
