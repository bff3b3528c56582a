/**
 * `codeai-cache stats | keys | get | del | flush` against a real Redis: the private server of
 * the test harness (never :6379), each test under a prefix of its own, subprocesses as a
 * user runs them. The confirmation `flush` asks on a terminal is driven in-process, with a
 * terminal-like stdin.
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/run.js';
import { RedisCache } from '../../src/index.js';
import { cli } from './run-cli.js';

const url = inject('redisUrl');
let prefix = '';
let cache: RedisCache;
let neighbour: RedisCache;

beforeEach(async () => {
  prefix = `cli${randomUUID().slice(0, 8)}`;
  cache = new RedisCache({ url, prefix });
  // Another prefix on the same database: no command may see or touch it.
  neighbour = new RedisCache({ url, prefix: `${prefix}x` });
  await Promise.all([cache.start(), neighbour.start()]);
  await cache.set('user:1', '{"name":"Ada"}', '5m');
  await cache.set('user:2', 'Grace', '5m');
  await cache.set('bin', Buffer.from([0, 1, 2, 0xff, 0xfe, 0x41, 0x42]));
  await neighbour.set('user:1', 'not mine');
});

afterEach(async () => {
  await cache.clear();
  await neighbour.clear();
  await Promise.all([cache.stop(), neighbour.stop()]);
});

const at = () => ['--cache', url, '--prefix', prefix];

describe('codeai-cache stats', () => {
  it('counts the keys under the prefix and reports health and the server, readable or JSON', async () => {
    await cache.set('tagged', 'v', '5m', { tags: ['t'] }); // writes bookkeeping keys too
    const json = await cli(['stats', ...at(), '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ cache: url, prefix, status: 'healthy', keys: 4 });
    expect(report.server.version).toMatch(/^\d+\.\d+/);
    const text = await cli(['stats', ...at()]);
    expect(text.stdout).toMatch(/^status {3}healthy$/m);
    expect(text.stdout).toMatch(/^keys {5}4 under the prefix$/m);
  });

  it('takes the prefix from the URL, and the URL from CACHE_URL, else REDIS_URL', async () => {
    const withPrefix = `${url}?prefix=${prefix}`;
    const viaFlag = JSON.parse((await cli(['stats', '--json', '--cache', withPrefix])).stdout);
    const viaCacheUrl = JSON.parse(
      (await cli(['stats', '--json'], { CACHE_URL: withPrefix, REDIS_URL: 'redis://127.0.0.1:1' }))
        .stdout,
    );
    const viaRedisUrl = JSON.parse(
      (await cli(['stats', '--json'], { REDIS_URL: withPrefix })).stdout,
    );
    for (const r of [viaFlag, viaCacheUrl, viaRedisUrl])
      expect(r).toMatchObject({ prefix, keys: 3 });
  });
});

describe('codeai-cache keys', () => {
  it('lists the matching keys under the prefix only, without it', async () => {
    const all = await cli(['keys', ...at()]);
    expect(all.code).toBe(0);
    expect(all.stdout.trimEnd().split('\n').sort()).toEqual(['bin', 'user:1', 'user:2']);
    const users = await cli(['keys', 'user:*', ...at(), '--json']);
    expect(JSON.parse(users.stdout).sort()).toEqual(['user:1', 'user:2']);
    const none = await cli(['keys', 'nothing*', ...at()]);
    expect([none.code, none.stdout]).toEqual([0, '']);
  });
});

describe('codeai-cache get', () => {
  it('prints text with its size and TTL', async () => {
    const r = await cli(['get', 'user:1', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^key {4}user:1\nsize {3}14 bytes\nttl {4}4m [0-5]?\ds\nvalue {2}\(UTF-8 text\)\n\{"name":"Ada"\}\n$/,
    );
    const json = JSON.parse((await cli(['get', 'user:1', ...at(), '--json'])).stdout);
    expect(json).toMatchObject({
      key: 'user:1',
      size: 14,
      encoding: 'utf8',
      value: '{"name":"Ada"}',
    });
    expect(json.ttlMs).toBeGreaterThan(200_000);
    expect(json.ttlMs).toBeLessThanOrEqual(300_000);
  });

  it('dumps bytes that are not UTF-8 text as hex, base64 in JSON; no expiry says so', async () => {
    const r = await cli(['get', 'bin', ...at()]);
    expect(r.stdout).toBe(
      'key    bin\nsize   7 bytes\nttl    none (no expiry)\nvalue  (binary: hex dump)\n00000000  00 01 02 ff fe 41 42                             |.....AB|\n',
    );
    const json = JSON.parse((await cli(['get', 'bin', ...at(), '--json'])).stdout);
    expect(json).toMatchObject({ ttlMs: null, encoding: 'base64' });
    expect(Buffer.from(json.value, 'base64')).toEqual(
      Buffer.from([0, 1, 2, 0xff, 0xfe, 0x41, 0x42]),
    );
  });

  it('reads through the cache: an entry invalidated through its tag is missing (exit 1, one line)', async () => {
    await cache.set('tagged', 'v', '5m', { tags: ['posts'] });
    expect((await cli(['get', 'tagged', ...at()])).code).toBe(0);
    await cache.invalidateTags(['posts']);
    const r = await cli(['get', 'tagged', ...at()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`codeai-cache: no key "tagged" under prefix "${prefix}" in ${url}\n`);
  });
});

describe('codeai-cache del', () => {
  it('deletes the keys under the prefix and says which were missing', async () => {
    const r = await cli(['del', 'user:1', 'nope', ...at()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('deleted   user:1\nnot found nope\n');
    expect(await cache.exists('user:1')).toBe(false);
    expect(await neighbour.exists('user:1')).toBe(true);
    const json = await cli(['del', 'user:2', 'nope', ...at(), '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ deleted: 1, missing: ['nope'] });
  });
});

describe('codeai-cache flush', () => {
  it('refuses without --yes off a terminal, and deletes nothing', async () => {
    const r = await cli(['flush', ...at()]);
    expect(r.code).toBe(2);
    expect(await cache.keys('*')).toHaveLength(3);
  });

  it('--pattern deletes the matching keys only', async () => {
    const r = await cli(['flush', '--pattern', 'user:*', '--yes', ...at()]);
    expect([r.code, r.stdout]).toEqual([0, 'deleted 2 keys\n']);
    expect(await cache.keys('*')).toEqual(['bin']);
  });

  it('without a pattern empties the prefix, bookkeeping included, and nothing else', async () => {
    await cache.set('tagged', 'v', '5m', { tags: ['t'] });
    const r = await cli(['flush', '--yes', '--json', ...at()]);
    expect(JSON.parse(r.stdout)).toEqual({ deleted: 4 });
    const client = cache.client!;
    expect(await client.keys(`${prefix}:*`)).toEqual([]);
    expect(await neighbour.get('user:1')).toEqual(Buffer.from('not mine'));
  });

  it('on a terminal, asks first: "n" keeps everything, "y" deletes', async () => {
    const run = async (answer: string) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true });
      let stdout = '';
      const done = main(['flush', ...at()], {
        stdout: { write: (s: string) => (stdout += s), isTTY: true },
        stderr: { write: () => true },
        env: {},
        stdin,
      });
      // Answer once the question is on the screen, as a person would.
      await expect.poll(() => stdout, { timeout: 10_000 }).toContain('[y/N] ');
      stdin.write(`${answer}\n`);
      return { code: await done, stdout };
    };
    const no = await run('n');
    expect(no.code).toBe(1);
    expect(no.stdout).toBe(
      `Delete EVERY key under the prefix in ${url}, prefix "${prefix}"? [y/N] nothing deleted\n`,
    );
    expect(await cache.keys('*')).toHaveLength(3);
    const yes = await run('y');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('deleted 3 keys\n');
    expect(await cache.keys('*')).toEqual([]);
  });
});

describe('inspection targets', () => {
  it('a memory:// cache is refused: there is nothing to inspect in another process', async () => {
    const r = await cli(['keys', '--cache', 'memory://']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'memory:// is an embedded memory cache: it lives inside the process that made it',
    );
  });
});
