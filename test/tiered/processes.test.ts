/**
 * TieredCache across real processes sharing the shared standalone Redis: each worker has
 * its own L1 (with a long `l1.ttl`, so a changed value can only reach another worker's L1
 * through an invalidation message), and after every kind of change on one worker, another
 * serves the change. Coherence is asserted eventually (polled with a generous deadline);
 * how fast it happens is the benchmark's job (bench/tiered.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually } from '../eventually.js';
import { startWorkers, type Worker } from './processes.js';

let workers: Worker[] = [];
let a: Worker;
let b: Worker;

beforeAll(async () => {
  workers = await startWorkers(4, {
    url: inject('redisUrl'),
    prefix: `procs-${randomUUID()}`,
    l1: { ttl: '1h' },
  });
  [a, b] = workers as [Worker, Worker];
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

/**
 * B holds `key` in its L1 with `value`. A read that overlaps an invalidation message for
 * the key stores nothing (by design), so first let every message A sent reach B (only A
 * writes in these tests), then read: that read fills B's L1.
 */
async function primed(key: string, value: string | null): Promise<void> {
  const sent = (await a.call<{ published: number }>('bus')).published;
  await eventually(async () =>
    expect((await b.call<{ received: number }>('bus')).received).toBeGreaterThanOrEqual(sent),
  );
  expect(await b.call('get', key)).toBe(value);
}

const sees = (key: string, value: string | null) =>
  eventually(async () => expect(await b.call('get', key)).toBe(value));

describe('TieredCache across processes', () => {
  // First, while no other process has anything to say.
  it('an instance ignores its own messages', async () => {
    const before = await a.call<{ published: number; received: number }>('bus');
    const bBefore = await b.call<{ received: number }>('bus');
    await a.call('set', 'own', '1');
    await a.call('delete', 'own');
    // Both messages reached another process, so they were sent; A counted neither.
    await eventually(async () => {
      const seen = await b.call<{ received: number }>('bus');
      expect(seen.received - bBefore.received).toBe(2);
    });
    const after = await a.call<{ published: number; received: number }>('bus');
    expect(after.published - before.published).toBe(2);
    expect(after.received).toBe(before.received);
  });

  it('set on one process reaches the L1 of another', async () => {
    await a.call('set', 'k-set', 'v1');
    await primed('k-set', 'v1');
    await a.call('set', 'k-set', 'v2');
    await sees('k-set', 'v2');
  });

  it('mset, delete, incr and decr reach the L1 of another', async () => {
    await a.call('mset', { m1: 'a', m2: 'b', n: '5' });
    await primed('m1', 'a');
    await primed('n', '5');
    await a.call('mset', { m1: 'A' });
    await sees('m1', 'A');
    await primed('m2', 'b');
    await a.call('delete', 'm2');
    await sees('m2', null);
    await a.call('incr', 'n');
    await sees('n', '6');
    await a.call('decr', 'n');
    await sees('n', '5');
  });

  it('deletePattern and clear reach the L1 of another', async () => {
    await a.call('mset', { 'p:1': 'x', 'p:2': 'y', q: 'z' });
    await primed('p:1', 'x');
    await primed('p:2', 'y');
    await primed('q', 'z');
    expect(await a.call('deletePattern', 'p:*')).toBe(2);
    await sees('p:1', null);
    await sees('p:2', null);
    expect(await b.call('get', 'q')).toBe('z');
    await a.call('clear');
    await sees('q', null);
  });

  it('invalidateTags reaches the L1 of another', async () => {
    await a.call('set', 'tagged', 'v', 0, { tags: ['t1'] });
    await a.call('set', 'other', 'w', 0, { tags: ['t2'] });
    await primed('tagged', 'v');
    await primed('other', 'w');
    await a.call('invalidateTags', ['t1']);
    await sees('tagged', null);
    expect(await b.call('get', 'other')).toBe('w');
  });

  it('4 processes × 250 concurrent getOrSet on one cold key run the factory once', async () => {
    const key = `cold-${randomUUID()}`;
    const results = await Promise.all(
      workers.map((w) => w.call<{ runs: number; distinct: number }>('getOrSetMany', key, 250, 50)),
    );
    expect(results.reduce((sum, r) => sum + r.runs, 0)).toBe(1);
    // Every caller in every process got the one computed value.
    const values = await Promise.all(workers.map((w) => w.call('get', key)));
    expect(new Set(values).size).toBe(1);
    for (const r of results) expect(r.distinct).toBe(1);
  });
});
