/**
 * The invalidation bus lost while another instance writes. Two TieredCaches share a
 * private Redis: A connects directly, B through a TCP proxy (support/tcp-proxy.ts) so its
 * link can be cut or kept from reconnecting. The README's promise ("TieredCache",
 * staleness bounds): Pub/Sub is at-most-once; while B's subscription is down B stops
 * filling its L1 (a copy filled before may still be served), and once B is resubscribed
 * it clears its L1. So after the resync B never serves a value older than Redis's, and
 * while the bus is down nothing B reads from Redis is kept. `l1.ttl` is an hour here, so
 * it never hides a missing clear.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TieredCache } from '../../src/index.js';
import { eventually } from '../eventually.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { fillL1, KEYS, killBusSubscriber, readAll } from './support/bus.js';
import { TcpProxy } from './support/tcp-proxy.js';

let server: RedisServer;
let proxy: TcpProxy;
let a: TieredCache;
let b: TieredCache;

beforeAll(async () => {
  server = await startRedis();
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

beforeEach(async () => {
  await server.cli('FLUSHALL');
  proxy = await TcpProxy.start({ port: server.port });
  const options = { prefix: 'bus', commandTimeout: 500, l1: { ttl: '1h' as const } };
  a = new TieredCache({ ...options, url: server.url });
  b = new TieredCache({ ...options, url: proxy.url, breaker: { threshold: 3, cooldown: 200 } });
  await Promise.all([a.start(), b.start()]);
  await fillL1(a, b);
});

afterEach(async () => {
  proxy.heal();
  await Promise.all([a.stop(), b.stop()]);
  await proxy.close();
});

describe('TieredCache when its invalidation bus drops', () => {
  it('bus down, command connection up: B keeps nothing new in L1, and clears it on resubscribing', async () => {
    proxy.refuse(true); // The subscriber's reconnects are reset until we allow them.
    expect(await killBusSubscriber(b, [server.port])).toBe(1);
    await eventually(() => expect(b.bus.live).toBe(false));
    expect((await b.health()).status).toBe('degraded');

    // The command connection is still up: B reads Redis, but keeps nothing in L1.
    await a.set('other', 'o1');
    expect((await b.get('other'))?.toString()).toBe('o1');
    await a.set('other', 'o2'); // Its message never reaches B.
    expect((await b.get('other'))?.toString()).toBe('o2');

    await a.mset(Object.fromEntries(KEYS.map((k) => [k, 'v1'])));
    // Until B is back on the bus, its copies from before the drop may be served (the promise).
    for (const v of await readAll(b)) expect(['v0', 'v1']).toContain(v);

    const resyncs = b.bus.resyncs;
    proxy.refuse(false);
    await eventually(() => expect(b.bus.resyncs).toBeGreaterThan(resyncs));
    expect(b.bus.live).toBe(true);
    expect(await readAll(b)).toEqual(KEYS.map(() => 'v1'));
    expect((await b.health()).status).toBe('healthy');
    // And the bus works again: a later write reaches B.
    await a.set('k0', 'v2');
    await eventually(async () => expect((await b.get('k0'))?.toString()).toBe('v2'));
  });

  it('whole link to B reset while A writes: after B is back, it never serves an older value', async () => {
    const resyncs = b.bus.resyncs;
    proxy.refuse(true);
    proxy.reset();
    await eventually(() => expect(b.bus.live).toBe(false));
    await a.mset(Object.fromEntries(KEYS.map((k) => [k, 'v1'])));
    // Redis is unreachable for B: its old L1 copies are served, misses fail open.
    for (const v of await readAll(b)) expect(['v0', 'v1', undefined]).toContain(v);

    // A reader on B all along; no read that starts after the resync may see v0 (a miss is
    // fine: B's command connection, or its breaker, may still be on its way back).
    let stop = false;
    let afterResync = 0;
    const stale: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const resynced = b.bus.resyncs > resyncs;
        const values = await readAll(b);
        if (resynced) {
          afterResync++;
          for (const [i, v] of values.entries()) if (v === 'v0') stale.push(`${KEYS[i]}=${v}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    proxy.refuse(false);
    await eventually(() => expect(b.bus.resyncs).toBeGreaterThan(resyncs));
    await eventually(async () => {
      expect(afterResync).toBeGreaterThan(3);
      expect(await readAll(b)).toEqual(KEYS.map(() => 'v1'));
    });
    stop = true;
    await reader;
    expect(stale).toEqual([]);
  });

  it('subscriber killed while A writes each key once: after the resync B agrees with Redis', async () => {
    const resyncs = b.bus.resyncs;
    // No refusal: the subscriber reconnects at once, and messages sent in that gap are lost.
    const writes = (async () => {
      for (const k of KEYS) {
        await a.set(k, 'v1');
        await new Promise((r) => setImmediate(r));
      }
    })();
    await killBusSubscriber(b, [server.port]);
    await writes;
    await eventually(() => expect(b.bus.resyncs).toBeGreaterThan(resyncs));
    expect(await readAll(b)).toEqual(KEYS.map(() => 'v1'));
  });
});
