/**
 * What a RedisCache promises while Redis does not answer (SIGSTOP on a private server: the
 * connection stays open and every command waits out its timeout):
 * - the circuit breaker opens after a few timeouts, then calls fail at once, not after the
 *   command timeout, until a probe finds Redis answering again;
 * - `stop()` returns within a second whatever Redis does;
 * - `invalidateTags(tags, { retry: true })` never loses an invalidation: it is queued,
 *   retried, lands once Redis answers (before the breaker closes), and meanwhile the cache
 *   bypasses the tags' entries.
 *
 * Timings are asserted against a command timeout of 2 s: a call that waited for Redis would
 * take at least that long, so a bound of 1 s proves it did not, without racing the machine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerState, CacheEvents } from '../../src/index.js';
import { RedisCache, type RedisCacheOptions } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { waitFor } from '../harness/tools.js';

const SLOW_MS = 2_000;

let server: RedisServer;
const caches: RedisCache[] = [];

beforeEach(async () => {
  server = await startRedis();
});

afterEach(async () => {
  server.resume(); // A failed test must not leave the server paused.
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await server.stop();
});

async function started(options: RedisCacheOptions = {}): Promise<RedisCache> {
  const cache = new RedisCache({ url: server.url, prefix: 'outage', ...options });
  caches.push(cache);
  await cache.start();
  return cache;
}

function breakerStates(cache: RedisCache): BreakerState[] {
  const states: BreakerState[] = [];
  cache.on('breaker', (e) => states.push(e.state));
  return states;
}

async function timed<T>(op: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await op();
  return { value, ms: performance.now() - t0 };
}

describe('the circuit breaker, with Redis paused', () => {
  it('opens after `threshold` timeouts; then reads miss and writes reject at once', async () => {
    const cache = await started({ commandTimeout: SLOW_MS, breaker: { threshold: 3 } });
    const states = breakerStates(cache);
    await cache.set('k', 'v');
    server.pause();
    // Three concurrent reads time out together: that is three consecutive failures.
    const slow = await timed(() => Promise.all([cache.get('a'), cache.get('b'), cache.get('c')]));
    expect(slow.value).toEqual([undefined, undefined, undefined]);
    expect(states).toEqual(['open']);

    const read = await timed(() => cache.get('k'));
    expect(read.value).toBeUndefined();
    expect(read.ms).toBeLessThan(SLOW_MS / 2);
    const write = await timed(() =>
      cache.set('k', 'w').then(
        () => 'written',
        (e) => e,
      ),
    );
    expect(write.value).toMatchObject({ name: 'CacheError', code: 'CONNECTION' });
    expect(write.ms).toBeLessThan(SLOW_MS / 2);

    const computed = await timed(() => cache.getOrSet('g', () => 'computed'));
    expect(computed.value).toBe('computed');
    expect(computed.ms).toBeLessThan(SLOW_MS / 2);

    const health = await timed(() => cache.health());
    expect(health.value).toMatchObject({ status: 'unhealthy', details: { breaker: 'open' } });
    expect(health.ms).toBeLessThan(SLOW_MS / 2);
  });

  it('closes after one successful probe once Redis answers again', async () => {
    const cache = await started({
      commandTimeout: 300,
      breaker: { threshold: 2, cooldown: '100ms' },
    });
    const states = breakerStates(cache);
    await cache.set('k', 'v');
    server.pause();
    await Promise.all([cache.get('x'), cache.get('y')]);
    expect(states[0]).toBe('open');
    server.resume();
    await waitFor('the breaker to close', async () => states.at(-1) === 'closed');
    expect(states).toContain('half-open');
    expect((await cache.get('k'))?.toString()).toBe('v');
    expect((await cache.health()).details).toMatchObject({ breaker: 'closed' });
  });

  it('counts a refused connection (server killed) like a timeout', async () => {
    const cache = await started({ breaker: { threshold: 2, cooldown: '10s' } });
    const states = breakerStates(cache);
    await server.kill();
    await waitFor('the breaker to open', async () => {
      await cache.get('k');
      return states.includes('open');
    });
    server = await startRedis(); // For afterEach.
  });
});

describe('the breaker option', () => {
  it('is validated when the cache is created, naming the option', () => {
    expect(() => new RedisCache({ breaker: { threshold: 0 } })).toThrow(/breaker\.threshold/);
    // @ts-expect-error: not a duration, rejected at run time too
    expect(() => new RedisCache({ breaker: { cooldown: 'soon' } })).toThrow(/breaker\.cooldown/);
    expect(() => new RedisCache({ breaker: false })).not.toThrow();
  });
});

describe('stop() with Redis paused', () => {
  it('returns within a second once the breaker is open', async () => {
    const cache = await started({ commandTimeout: SLOW_MS, breaker: { threshold: 2 } });
    const states = breakerStates(cache);
    server.pause();
    await Promise.all([cache.get('a'), cache.get('b')]);
    expect(states).toEqual(['open']);
    const { ms } = await timed(() => cache.stop());
    expect(ms).toBeLessThan(1_000);
  });

  it('returns within a second when no command has noticed the pause yet', async () => {
    const cache = await started({ commandTimeout: SLOW_MS });
    server.pause();
    const { ms } = await timed(() => cache.stop());
    expect(ms).toBeLessThan(1_000);
  });
});

describe('stop() with Redis killed', () => {
  it('returns at once while the client is reconnecting, whatever connectTimeout', async () => {
    // A connect timeout far above the bound: a stop() that waited for it would show.
    const cache = await started({ connectTimeout: 5_000, breaker: false });
    await cache.set('k', 'v');
    await server.kill();
    // A call notices the loss; the client is then reconnecting to a port nobody listens on.
    await waitFor('the client to reconnect', async () => {
      await cache.get('k');
      const state = cache.client?.status;
      return state === 'reconnecting' || state === 'connecting';
    });
    const { ms } = await timed(() => cache.stop());
    expect(ms).toBeLessThan(2_000);
    server = await startRedis(); // For afterEach.
  });
});

describe('invalidateTags(tags, { retry: true }) with Redis paused', () => {
  it('queues the invalidation, bypasses its entries, and lands it before the breaker closes', async () => {
    const options: RedisCacheOptions = {
      commandTimeout: 300,
      breaker: { threshold: 2, cooldown: '100ms' },
    };
    const cache = await started(options);
    const other = await started(options); // Another instance: sees only what reached Redis.
    const order: string[] = [];
    cache.on('breaker', (e) => order.push(`breaker:${e.state}`));
    cache.on('outbox', (e: CacheEvents['outbox']) => order.push(`outbox:${e.action}`));
    await cache.set('product:2', 'old', '1h', { tags: ['products'] });
    await cache.set('user:1', 'ann', '1h', { tags: ['users'] });

    server.pause();
    expect(await cache.invalidateTags(['products'], { retry: true })).toEqual({ queued: true });
    expect(order).toEqual(['outbox:queued']);
    expect(await cache.health()).toMatchObject({ details: { outbox: 1 } });

    await cache.get('user:1'); // A second timeout opens the breaker.
    expect(order).toContain('breaker:open');
    server.resume();
    await waitFor('the breaker to close', async () => order.includes('breaker:closed'));
    // Flushed on reconnect: the bump landed before reads were served from Redis again.
    expect(order.indexOf('outbox:landed')).toBeGreaterThan(-1);
    expect(order.indexOf('outbox:landed')).toBeLessThan(order.indexOf('breaker:closed'));
    expect(await other.get('product:2')).toBeUndefined();
    expect((await other.get('user:1'))?.toString()).toBe('ann');
    expect(await cache.health()).toMatchObject({ status: 'healthy', details: { outbox: 0 } });
  });
});

describe('a queued invalidation while another instance recovers first', () => {
  it('lands soon after Redis answers, not after the writer’s whole cool-down', async () => {
    // The writer's cool-down is a minute: only the hurried probe (URGENT_PROBE_MS) can land
    // its invalidation within the wait below. The reader recovers on its own short cool-down
    // and would otherwise serve the replaced entry from Redis all that minute.
    const writer = await started({
      commandTimeout: 300,
      breaker: { threshold: 1, cooldown: '1m' },
    });
    const reader = await started({
      commandTimeout: 300,
      breaker: { threshold: 1, cooldown: '100ms' },
    });
    const writerStates = breakerStates(writer);
    const readerStates = breakerStates(reader);
    await writer.set('product:2', 'old', '1h', { tags: ['products'] });
    expect((await reader.get('product:2'))?.toString()).toBe('old');

    server.pause();
    await writer.get('product:2'); // One timeout opens the writer's breaker.
    await reader.get('product:2'); // …and the reader's.
    expect(writerStates).toEqual(['open']);
    expect(readerStates).toEqual(['open']);
    // The write's invalidation: refused by the open breaker, kept in the outbox.
    expect(await writer.invalidateTags(['products'], { retry: true })).toEqual({ queued: true });
    server.resume();

    await waitFor('the reader to recover', async () => readerStates.includes('closed'));
    await waitFor('the writer’s invalidation to land', async () => {
      return (await reader.get('product:2')) === undefined;
    });
    expect(writerStates).toContain('closed');
  });
});
