/**
 * A getOrSet waiting for another process's lock when Redis pauses. The paused-Redis load
 * test (redis-pause.test.ts) caught it about one run in five: a waiter asleep until the
 * lock's PX (read before the pause) could only be woken by the holder's release message,
 * which cannot arrive while the server is stopped, so it answered when the pause ended —
 * past the bound every call must end within. Now the store's breaker opening wakes every
 * waiter: its re-read fails fast and it computes locally, as when the lock cannot be taken.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { until } from './support/redis-load.js';

let server: RedisServer | undefined;
const caches: RedisCache[] = [];

afterEach(async () => {
  server?.resume();
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await server?.stop();
  server = undefined;
});

/** Times the server has run PTTL (a waiter reads its lock's remaining life with it). */
async function pttlCalls(s: RedisServer): Promise<number> {
  const info = String(await s.cli('INFO', 'commandstats'));
  return Number(/cmdstat_pttl:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('a getOrSet waiting on another holder while Redis pauses', () => {
  it('stops waiting when the breaker opens, and answers from its own factory', async () => {
    server = await startRedis();
    const url = server.url;
    const holder = new RedisCache({ url, prefix: 'wait', commandTimeout: 200, breaker: false });
    const waiter = new RedisCache({
      url,
      prefix: 'wait',
      commandTimeout: 200,
      breaker: { threshold: 1, cooldown: '10m' },
    });
    caches.push(holder, waiter);
    await Promise.all([holder.start(), waiter.start()]);

    // The holder takes k's lock (for 10 minutes) and computes until told to finish.
    let finish: (value: string) => void = () => {};
    const held = holder.getOrSet(
      'k',
      () =>
        new Promise<string>((resolve) => {
          finish = resolve;
        }),
      { lock: { ttl: '10m' } },
    );
    // Its lock is the only key in the database until it writes.
    await until(
      'the holder to take the lock',
      async () => Number(await server?.cli('DBSIZE')) === 1,
    );
    const before = await pttlCalls(server);
    const waiting = waiter.getOrSet('k', () => 'waiter', { lock: { wait: '10m' } });
    // The waiter has read the lock's 10 minutes left: it now sleeps until a release message.
    await until(
      'the waiter to read the lock',
      async () => (await pttlCalls(server as RedisServer)) > before,
    );

    server.pause();
    // Any call that times out opens the waiter's breaker (threshold 1).
    expect(await waiter.get('other')).toBeUndefined();
    // Before the fix this waited for the server (the release message) or the lock's PX.
    expect(await waiting).toBe('waiter');

    server.resume();
    finish('holder');
    expect(await held).toBe('holder');
  }, 30_000);
});
