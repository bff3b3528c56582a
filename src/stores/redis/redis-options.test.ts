import { describe, expect, it } from 'vitest';
import { resolveRedisOptions } from './redis-options.js';
import { parseRedisUrl } from './redis-url.js';

const invalid = (fn: () => unknown, mention: RegExp) =>
  expect(fn).toThrow(
    expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(mention) }),
  );

describe('parseRedisUrl', () => {
  it('reads host, port, credentials, database and TLS', () => {
    expect(parseRedisUrl('redis://u%40s:p%3Aw@cache.local:6380/3')).toEqual({
      host: 'cache.local',
      port: 6380,
      username: 'u@s',
      password: 'p:w',
      db: 3,
      tls: false,
      options: {},
    });
    expect(parseRedisUrl('rediss://:secret@[::1]')).toMatchObject({
      host: '::1',
      port: 6379,
      password: 'secret',
      db: 0,
      tls: true,
    });
    expect(parseRedisUrl('redis://h').username).toBeUndefined();
  });

  it('takes cache options from the query and names an unknown one', () => {
    expect(
      parseRedisUrl('redis://h/0?prefix=app&commandTimeout=250ms&failOpen=false').options,
    ).toEqual({
      prefix: 'app',
      commandTimeout: '250ms',
      failOpen: false,
    });
    invalid(() => parseRedisUrl('redis://h?prefx=app'), /unknown option "prefx"/);
    invalid(() => parseRedisUrl('redis://h?failOpen=yes'), /failOpen/);
  });

  it('rejects a bad scheme or database, without echoing the password', () => {
    invalid(() => parseRedisUrl('http://h'), /scheme "http:"/);
    invalid(() => parseRedisUrl('redis://:hunter2@h/x'), /database/);
    expect(() => parseRedisUrl('redis://:hunter2@h/x')).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('hunter2') }),
    );
    invalid(() => parseRedisUrl('not a url'), /not a valid Redis URL/);
  });
});

describe('resolveRedisOptions', () => {
  it('applies the defaults: 1 s command timeout, 2 s connect timeout, local standalone', () => {
    const { redis } = resolveRedisOptions({});
    expect(redis).toMatchObject({
      target: { mode: 'standalone', host: '127.0.0.1', port: 6379 },
      db: 0,
      commandTimeoutMs: 1000,
      connectTimeoutMs: 2000,
    });
  });

  it('lets explicit options win over the URL', () => {
    const { redis, common } = resolveRedisOptions({
      url: 'redis://u:p@h:7000/2?prefix=url&commandTimeout=5s',
      password: 'explicit',
      prefix: 'mine',
    });
    expect(redis).toMatchObject({
      target: { host: 'h', port: 7000 },
      username: 'u',
      password: 'explicit',
      db: 2,
      commandTimeoutMs: 5000,
    });
    expect(common.prefix).toBe('mine');
  });

  it('names the unknown or invalid option', () => {
    invalid(() => resolveRedisOptions({ hots: 'x' } as never), /unknown redis cache option "hots"/);
    invalid(() => resolveRedisOptions({ commandTimeout: 0 }), /commandTimeout/);
    // @ts-expect-error a JavaScript caller can pass any string: it is checked at run time.
    invalid(() => resolveRedisOptions({ connectTimeout: 'soon' }), /connectTimeout/);
    invalid(() => resolveRedisOptions({ port: 70000 }), /port/);
    invalid(() => resolveRedisOptions({ db: -1 }), /db/);
    invalid(() => resolveRedisOptions({ cluster: { nodes: [] } }), /cluster.nodes/);
    invalid(
      () => resolveRedisOptions({ cluster: { nodes: ['h:1'] }, db: 1 }),
      /db must be 0 with cluster/,
    );
    invalid(() => resolveRedisOptions({ cluster: { nodes: ['nope'] } }), /cluster.nodes\[0\]/);
    invalid(
      () => resolveRedisOptions({ sentinel: { sentinels: ['h:1'], name: '' } }),
      /sentinel.name/,
    );
    invalid(() => resolveRedisOptions({ client: {} as never }), /client/);
    invalid(() => resolveRedisOptions({ tls: 'yes' as never }), /tls/);
  });

  it('refuses two different answers to "where is Redis"', () => {
    invalid(
      () => resolveRedisOptions({ url: 'redis://h', cluster: { nodes: ['h:1'] } }),
      /url and cluster/,
    );
    invalid(
      () => resolveRedisOptions({ sentinel: { sentinels: ['h:1'], name: 'm' }, host: 'h' }),
      /host and sentinel/,
    );
  });

  it('reads cluster and sentinel nodes as strings or objects', () => {
    expect(
      resolveRedisOptions({ cluster: { nodes: ['a:1', { host: 'b', port: 2 }, '[::1]:3'] } }).redis
        .target,
    ).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'a', port: 1 },
        { host: 'b', port: 2 },
        { host: '::1', port: 3 },
      ],
    });
    expect(
      resolveRedisOptions({ sentinel: { sentinels: ['s:26379'], name: 'mymaster' } }).redis.target,
    ).toMatchObject({
      mode: 'sentinel',
      name: 'mymaster',
    });
  });

  it('turns rediss:// and tls: true into TLS options', () => {
    expect(resolveRedisOptions({ url: 'rediss://h' }).redis.tls).toEqual({});
    expect(resolveRedisOptions({ tls: { servername: 'x' } }).redis.tls).toEqual({
      servername: 'x',
    });
    expect(resolveRedisOptions({}).redis.tls).toBeUndefined();
  });
});
