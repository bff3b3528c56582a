/**
 * `exists` on Redis reads an entry's head (GETRANGE), never its whole value: asking about a
 * large entry must not move it over the network, and the answer must still honour
 * envelopes, tags and logical expiry. Runs on a private server so its traffic counters
 * belong to this file alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { eventually, skewedClock } from '../eventually.js';
import { type RedisServer, startRedis } from '../harness/redis.js';

let server: RedisServer;
let cache: RedisCache;
const clock = skewedClock();

beforeAll(async () => {
  server = await startRedis();
  cache = new RedisCache({ url: server.url, prefix: 'ex', clock });
  await cache.start();
});
afterAll(async () => {
  await cache?.stop();
  await server?.stop();
});

async function bytesSentBy(action: () => Promise<unknown>): Promise<number> {
  const read = async () =>
    Number(/total_net_output_bytes:(\d+)/.exec(await server.cli('INFO', 'stats'))![1]);
  const before = await read();
  await action();
  return (await read()) - before;
}

describe('RedisCache exists', () => {
  it('answers about a 4 MiB tagged entry without the server sending its value', async () => {
    await cache.set('big', Buffer.alloc(4 * 1024 * 1024, 7), undefined, { tags: ['big-tag'] });
    let answer = false;
    const sent = await bytesSentBy(async () => {
      answer = await cache.exists('big');
    });
    expect(answer).toBe(true);
    expect(sent).toBeLessThan(64 * 1024);
    await cache.invalidateTags(['big-tag']);
    expect(await cache.exists('big')).toBe(false);
  });

  it('tells an empty value from a missing key', async () => {
    await cache.set('empty', '');
    expect(await cache.exists('empty')).toBe(true);
    expect(await cache.exists('never-written')).toBe(false);
  });

  it('reads the whole value when the tag list runs past the head it read', async () => {
    // 40 tags of ~200 bytes: the envelope's tag list alone is longer than the head.
    const tags = Array.from({ length: 40 }, (_, i) => `${'t'.repeat(190)}-${i}`);
    await cache.set('many-tags', 'v', undefined, { tags });
    expect(await cache.exists('many-tags')).toBe(true);
    await cache.invalidateTags([tags[39]!]);
    expect(await cache.exists('many-tags')).toBe(false);
  });

  it('honours logical expiry: a grace copy past its freshness does not exist', async () => {
    await cache.getOrSet('graced', async () => 'v', { ttl: '1m', grace: '1m' });
    // getOrSet answers before its write lands.
    await eventually(async () => expect(await cache.exists('graced')).toBe(true));
    clock.advance(90_000); // past its freshness, inside its grace: still stored
    expect(await cache.exists('graced')).toBe(false);
  });
});
