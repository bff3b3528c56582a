/**
 * The invalidation bus on a Cluster, when B's subscriber connection is killed
 * (`CLIENT KILL`) while the nodes stay up. The README's promise holds as on a standalone
 * server: once B is subscribed again it clears its L1, since it may have missed
 * invalidations meanwhile.
 *
 * Regression: through ioredis's cluster subscriber (`Cluster.duplicate()`), a killed
 * subscriber connection was replaced silently — no `close` nor `reconnecting` reached the
 * bus — so B never noticed the drop, never cleared its L1, and served what it missed for up
 * to `l1.ttl` (an hour here). Only a node leaving the cluster was noticed.
 */
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { RedisCache, TieredCache } from '../../src/index.js';
import { eventually } from '../eventually.js';
import { connectionFor } from '../redis/util.js';
import { fillL1, KEYS, killBusSubscriber, readAll } from './support/bus.js';

const ports = inject('clusterNodes').map((n) => n.port);

let a: TieredCache;
let b: TieredCache;
/** Writes that publish nothing: a change B can only learn of by clearing its L1. */
let plain: RedisCache;

beforeEach(async () => {
  const prefix = `cluster-bus-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const options = { ...connectionFor('cluster'), prefix, l1: { ttl: '1h' as const } };
  a = new TieredCache(options);
  b = new TieredCache(options);
  plain = new RedisCache({ ...connectionFor('cluster'), prefix });
  await Promise.all([a.start(), b.start(), plain.start()]);
  await fillL1(a, b);
});

afterEach(async () => {
  await a.clear();
  await Promise.all([a.stop(), b.stop(), plain.stop()]);
});

describe('TieredCache on a Cluster when its bus subscriber is killed', () => {
  it('notices the drop, resubscribes, and clears its L1 (regression: the drop went unnoticed)', async () => {
    // A change whose message B never gets: what a message lost in the gap looks like to B.
    await plain.mset(Object.fromEntries(KEYS.map((k) => [k, 'v1'])));
    expect(await readAll(b)).toEqual(KEYS.map(() => 'v0')); // L1, as the promise allows.
    const resyncs = b.bus.resyncs;
    expect(await killBusSubscriber(b, ports)).toBe(1);
    await eventually(() => expect(b.bus.resyncs).toBeGreaterThan(resyncs));
    expect(b.bus.live).toBe(true);
    expect(await readAll(b)).toEqual(KEYS.map(() => 'v1'));
    // The new subscription carries A's messages.
    await a.set('k0', 'v2');
    await eventually(async () => expect((await b.get('k0'))?.toString()).toBe('v2'));
  });

  it('subscriber killed while A writes each key once: after the resync B agrees with Redis', async () => {
    const resyncs = b.bus.resyncs;
    const writes = (async () => {
      for (const k of KEYS) {
        await a.set(k, 'v1');
        await new Promise((r) => setImmediate(r));
      }
    })();
    await killBusSubscriber(b, ports);
    await writes;
    await eventually(() => expect(b.bus.resyncs).toBeGreaterThan(resyncs));
    expect(await readAll(b)).toEqual(KEYS.map(() => 'v1'));
  });
});
