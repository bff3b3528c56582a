/**
 * TieredCache across real processes on the shared 3-master cluster: one factory run for
 * 4 processes × 250 concurrent getOrSet on a cold key, and invalidations (published on one
 * node, delivered from any) reaching another process's L1; and, in this process, an mget
 * over keys on every master filling L1.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TieredCache } from '../../src/index.js';
import { eventually } from '../eventually.js';
import { startWorkers, type Worker } from './processes.js';

let workers: Worker[] = [];

beforeAll(async () => {
  workers = await startWorkers(4, {
    cluster: { nodes: inject('clusterNodes') },
    prefix: `tiered-cluster-${randomUUID()}`,
    l1: { ttl: '1h' },
  });
}, 90_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

describe('TieredCache on a cluster, across processes', () => {
  it('4 processes × 250 concurrent getOrSet on one cold key run the factory once', async () => {
    const key = `cold-${randomUUID()}`;
    const results = await Promise.all(
      workers.map((w) => w.call<{ runs: number; distinct: number }>('getOrSetMany', key, 250, 50)),
    );
    expect(results.reduce((sum, r) => sum + r.runs, 0)).toBe(1);
    const values = await Promise.all(workers.map((w) => w.call('get', key)));
    expect(new Set(values).size).toBe(1);
  });

  it('set, deletePattern and invalidateTags on one process reach the L1 of the others', async () => {
    const [a, ...others] = workers as [Worker, ...Worker[]];
    // Keys spread over the masters.
    const keys = Array.from({ length: 12 }, (_, i) => `spread:${i}`);
    for (const key of keys) await a.call('set', key, 'v1');
    await a.call('set', 'tagged', 'v', 0, { tags: ['t'] });
    for (const w of others) {
      for (const key of keys) expect(await w.call('get', key)).toBe('v1');
      expect(await w.call('get', 'tagged')).toBe('v');
    }
    await a.call('set', 'spread:0', 'v2');
    for (const w of others) {
      await eventually(async () => expect(await w.call('get', 'spread:0')).toBe('v2'));
    }
    expect(await a.call('deletePattern', 'spread:*')).toBe(12);
    await a.call('invalidateTags', ['t']);
    for (const w of others) {
      await eventually(async () => {
        for (const key of keys) expect(await w.call('get', key)).toBe(null);
        expect(await w.call('get', 'tagged')).toBe(null);
      });
    }
  });
});

describe('TieredCache mget on a cluster', () => {
  it('fills L1 from keys spread over every master (one pipeline per slot)', async () => {
    const prefix = `tiered-mget-${randomUUID()}`;
    const caches = [0, 1].map(
      () => new TieredCache({ cluster: { nodes: inject('clusterNodes') }, prefix }),
    );
    const [writer, reader] = caches as [TieredCache, TieredCache];
    try {
      await Promise.all(caches.map((c) => c.start()));
      const keys = Array.from({ length: 12 }, (_, i) => `spread:${i}`);
      await writer.mset(Object.fromEntries(keys.map((k) => [k, k])), '1h');
      // A read overlapping the write's message stores nothing (by design): let it land first.
      await eventually(() => expect(reader.bus.received).toBeGreaterThan(0));
      const read = await reader.mget([...keys, 'absent']);
      expect(read.map((v) => v?.toString())).toEqual([...keys, undefined]);
      expect(reader.stats().entries).toBe(keys.length);
    } finally {
      await Promise.all(caches.map((c) => c.stop()));
    }
  });
});
