/**
 * Every key the library writes — tag versions, the version clock, getOrSet locks — lives
 * under the cache's prefix, has a TTL, stays out of `keys()` / `scan()` / `deletePattern()`
 * and goes with `clear()`. Regression: `__codeai:{prefix:}:tag:…`, `…:clock` and `…:base`
 * sat outside the prefix, had no TTL and survived `clear()`.
 *
 * Checked with a raw client of our own on every master, against the shared standalone
 * server and the shared cluster (each test in a random prefix), and a private server for
 * the cache without a prefix, which owns its whole database.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { MARK } from '../../src/stores/redis/keys.js';
import { TAG_TTL_FLOOR_MS } from '../../src/stores/redis/tags.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { connectionFor, type Topology } from './util.js';

const caches: RedisCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

const DAY = 86_400_000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A raw client of our own, to look at what is really in Redis. */
function rawClient(topology: Topology): Redis | Cluster {
  const c = connectionFor(topology);
  if (c.cluster !== undefined) {
    return new Cluster(c.cluster.nodes as { host: string; port: number }[], {
      scaleReads: 'master',
    });
  }
  return new Redis(c.url as string);
}

/** Every key, on every master, whose bytes contain `needle`. */
async function keysContaining(raw: Redis | Cluster, needle: string): Promise<Buffer[]> {
  const nodes = raw instanceof Cluster ? raw.nodes('master') : [raw];
  const out: Buffer[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scanBuffer(cursor, 'MATCH', `*${needle}*`, 'COUNT', 1000);
      cursor = next.toString();
      out.push(...found);
    } while (cursor !== '0');
  }
  return out;
}

/** True for a key of ours that is not data: the prefix, then the byte 0xFF. */
const bookkeeping = (key: Buffer, prefix: string): boolean => key[prefix.length + 1] === MARK;

describe.each(['standalone', 'cluster'] as const)('bookkeeping keys (%s)', (topology) => {
  let raw: Redis | Cluster;
  beforeAll(() => {
    raw = rawClient(topology);
  });
  afterAll(async () => {
    raw.disconnect();
  });

  async function cache(): Promise<{ cache: RedisCache; id: string; prefix: string }> {
    const id = randomUUID();
    const prefix = `bk-${id}`;
    const c = new RedisCache({ ...connectionFor(topology), prefix });
    caches.push(c);
    await c.start();
    return { cache: c, id, prefix };
  }

  it('all sit under the prefix, with a TTL, and clear() leaves nothing behind', async () => {
    const { cache: c, id, prefix } = await cache();
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e.error));
    await c.set('plain', 'v', '1m');
    await c.set('tagged', 'v', '3d', { tags: ['t1', 't2'] });
    await c.setJSON('json', { a: 1 }, '1m', { tags: ['t3'] });
    await c.mset({ m1: '1', m2: '2' }, '1m');
    await c.incr('counter');
    await c.invalidateTags(['t2', 'never-used']);
    await c.tagSnapshot(['t4']);
    expect(await c.getOrSet('computed', () => 'x', { ttl: '1m', tags: ['t1'] })).toBe('x');
    // A getOrSet still computing holds its lock: look at it then.
    const gate = deferred();
    const computing = c.getOrSet(
      'held',
      async () => {
        await gate.promise;
        return 'late';
      },
      { ttl: '1m' },
    );
    let keys: Buffer[] = [];
    await expect
      .poll(
        async () => {
          keys = await keysContaining(raw, id);
          // `computed`'s lock goes once its write has landed, just after getOrSet returned.
          return (
            keys.some((k) => k.includes('lock:held')) &&
            !keys.some((k) => k.includes('lock:computed'))
          );
        },
        { timeout: 10_000 },
      )
      .toBe(true);

    // Everything of ours starts with the prefix, bookkeeping included.
    for (const k of keys)
      expect(k.toString('latin1').startsWith(`${prefix}:`), String(k)).toBe(true);
    const internal = keys.filter((k) => bookkeeping(k, prefix));
    // Tags t1..t4 and never-used, the clock, the lock.
    expect(internal.length).toBe(7);
    for (const k of internal) {
      const ttl = Number(await raw.pttl(k));
      expect(ttl, k.toString('latin1')).toBeGreaterThan(0);
      // Tag versions and the clock outlive the longest entry written (3 days) and a day.
      if (!k.includes('lock:'))
        expect(ttl).toBeGreaterThan(Math.max(3 * DAY, TAG_TTL_FLOOR_MS) - 60_000);
    }

    await c.clear();
    // The lock went with the rest. The run that began before the clear still answers its
    // caller, but writes nothing after it (getOrSet resolves once its write would have landed).
    expect(await keysContaining(raw, id)).toEqual([]);
    gate.resolve();
    expect(await computing).toBe('late');
    expect(await keysContaining(raw, id)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('keys(), scan() and deletePattern() never show or delete bookkeeping', async () => {
    const { cache: c, id, prefix } = await cache();
    await c.set('a', '1', '1m', { tags: ['t'] });
    await c.set('b', '2', '1m');
    await c.invalidateTags(['t']);
    expect((await c.keys('*')).sort()).toEqual(['a', 'b']);
    const scanned: string[] = [];
    for await (const k of c.scan('*')) scanned.push(k);
    expect(scanned.sort()).toEqual(['a', 'b']);
    // Patterns a caller could aim at the bookkeeping find nothing there.
    for (const pattern of ['*tag*', '*lock*', '*clock*', '[^ab]*', '?*']) {
      expect((await c.keys(pattern)).filter((k) => k !== 'a' && k !== 'b')).toEqual([]);
    }
    expect(await c.deletePattern('*')).toBe(2);
    const left = await keysContaining(raw, id);
    expect(left.length).toBe(2); // the tag's version and the clock
    expect(left.every((k) => bookkeeping(k, prefix))).toBe(true);
  });

  // The resurrection race of tags.ts: a tag key that goes away (TTL, eviction, a raw delete)
  // must not make an entry it had invalidated valid again.
  it('an invalidated entry stays invalid when every bookkeeping key is lost', async () => {
    const { cache: c, id, prefix } = await cache();
    // Written while the tag had never been invalidated, then invalidated.
    await c.set('e', 'old', '1m', { tags: ['t'] });
    await c.invalidateTags(['t']);
    // (Not read yet: a read would find it invalid and delete it.)
    const lost = (await keysContaining(raw, id)).filter(
      (k) => !k.equals(Buffer.from(`${prefix}:e`)),
    );
    expect(lost.length).toBeGreaterThan(0);
    for (const k of lost) await raw.del(k);
    expect(await c.get('e')).toBeUndefined();
  });
});

describe('bookkeeping of a cache without a prefix', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
  });

  /** How many times the server ran `command` (INFO commandstats). */
  async function calls(command: string): Promise<number> {
    const info = await server.cli('INFO', 'commandstats');
    return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  }

  it('reads a known tag with one MGET, not a script (scripts only create and renew)', async () => {
    const c = new RedisCache({ url: server.url, prefix: 'fast' });
    caches.push(c);
    await c.set('e', 'v', '1m', { tags: ['a', 'b'] });
    const scripts = (await calls('evalsha')) + (await calls('eval'));
    const mgets = await calls('mget');
    for (let i = 0; i < 50; i++) expect((await c.get('e'))?.toString()).toBe('v');
    expect((await calls('evalsha')) + (await calls('eval'))).toBe(scripts);
    expect((await calls('mget')) - mgets).toBe(50);
    await c.clear();
  });

  it('is hidden from keys() and removed by clear(), which empties the database', async () => {
    const c = new RedisCache({ url: server.url });
    caches.push(c);
    await server.cli('SET', 'someone-else', '1');
    await c.set('p', 'v', '1m', { tags: ['t'] });
    await c.invalidateTags(['t']);
    expect((await c.keys()).sort()).toEqual(['p', 'someone-else']);
    expect(Number(await server.cli('DBSIZE'))).toBe(4); // p, someone-else, the tag, the clock
    expect(await c.deletePattern('*')).toBe(2);
    expect(await server.cli('DBSIZE')).toBe('2');
    await c.clear();
    expect(await server.cli('DBSIZE')).toBe('0');
  });
});
