/**
 * A dead backend under every target (each adapter, and `serve`): a real `RedisCache` on a
 * private redis-server that is paused (SIGSTOP: commands hang until the command timeout),
 * then killed (connections refused). Every request must still be answered by the origin,
 * and each within the backend's timeout — bounded here by `commandTimeout × 2 + slack`, so a
 * loaded machine does not fail it, while a request that hung on Redis beyond its timeout
 * (or twice over and more) does.
 *
 * Why the checks cannot pass with a cache that does nothing: the exchange is first shown
 * to be cached (a HIT), and after the backend died the answers are new ones from the origin
 * and the failures are counted and published (`cacheError` on the diagnostics channel).
 */
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { type HttpCacheEvents, httpChannelName } from '../../src/http/events.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { type Received, send, until } from './client.js';
import { Origin } from './origin.js';
import { TABLE_OPTIONS } from './scenarios.js';
import { TARGETS, type Target } from './targets.js';

/** Short, so the bound below stays well under the test timeout on a loaded machine. */
const COMMAND_TIMEOUT_MS = 400;
/** A request may pay the timeout once, not hang: twice the timeout plus scheduling slack. */
const BOUND_MS = COMMAND_TIMEOUT_MS * 2 + 1_500;

const ERROR_CHANNEL = httpChannelName('cacheError');

let redis: RedisServer | undefined;
let cache: RedisCache | undefined;
let target: Target | undefined;
let onError: ((message: unknown) => void) | undefined;

afterEach(async () => {
  if (onError !== undefined) diagnostics.unsubscribe(ERROR_CHANNEL, onError);
  redis?.resume();
  await target?.close();
  await cache?.stop();
  await redis?.stop();
  onError = undefined;
  target = undefined;
  cache = undefined;
  redis = undefined;
});

async function timed(url: string, path: string, method = 'GET') {
  const t0 = performance.now();
  const response: Received = await send(url, path, { method });
  return { response, ms: performance.now() - t0 };
}

for (const [name, open] of Object.entries(TARGETS)) {
  describe(`${name} with a dead Redis`, () => {
    it('answers every request from the origin, each within the command timeout, paused then killed', async () => {
      redis = await startRedis();
      cache = new RedisCache({
        url: redis.url,
        prefix: 'dead-backend',
        commandTimeout: COMMAND_TIMEOUT_MS,
      });
      await cache.start();
      const origin = new Origin();
      target = await open(cache, TABLE_OPTIONS, origin);
      const operations: string[] = [];
      onError = (message) => operations.push((message as HttpCacheEvents['cacheError']).operation);
      diagnostics.subscribe(ERROR_CHANNEL, onError);
      const { url, mw } = target;

      // Cached while Redis lives.
      expect((await send(url, '/posts/1')).xCache).toBe('MISS');
      await until(() => mw.stats().stores >= 1, 10_000, 'the response to be stored');
      const hit = await send(url, '/posts/1');
      expect([hit.xCache, JSON.parse(hit.text).n]).toEqual(['HIT', 1]);

      /** `n` is the origin's call count for the path, PUTs included. */
      const outage = async (phase: string, n: number) => {
        // The stored path, a new one, a write: each answered by the origin, none hanging.
        const read = await timed(url, '/posts/1');
        const miss = await timed(url, `/posts/${phase}`);
        const write = await timed(url, '/posts/1', 'PUT');
        for (const [what, { response, ms }] of Object.entries({ read, miss, write })) {
          expect([phase, what, response.status]).toEqual([phase, what, 200]);
          expect(ms, `${phase} ${what} took ${Math.round(ms)} ms`).toBeLessThan(BOUND_MS);
        }
        // Not the stored entry: the origin answered again.
        expect(JSON.parse(read.response.text).n).toBe(n);
        expect(JSON.parse(miss.response.text).n).toBe(1);
      };

      redis.pause();
      await outage('paused', 2);
      redis.resume();
      await redis.kill();
      await outage('killed', 4);

      expect(mw.stats().errors).toBeGreaterThan(0);
      expect(operations.length).toBeGreaterThan(0);
      expect(origin.count('/posts/1')).toBe(5); // 1 miss + 2 reads + 2 PUTs
    });
  });
}
