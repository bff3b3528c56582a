import { describe, expect, it } from 'vitest';
import { IgnoredCookies } from './cookies.js';
import {
  collectionPath,
  headerHash,
  normalizeAcceptEncoding,
  parseTarget,
  pathTag,
  primaryHash,
  primaryKey,
  variantKey,
} from './key.js';

const get = (h: Record<string, string>) => (name: string) => h[name];

describe('parseTarget', () => {
  it('sorts query parameters by name, keeping the order of repeated names', () => {
    expect(parseTarget('/a?b=2&a=1&c=3')).toEqual({ path: '/a', query: 'a=1&b=2&c=3' });
    expect(parseTarget('/a?x=2&a=0&x=1').query).toBe('a=0&x=2&x=1');
  });

  it('treats an empty query like none and an empty path as /', () => {
    expect(parseTarget('/a?')).toEqual({ path: '/a', query: '' });
    expect(parseTarget('?q=1')).toEqual({ path: '/', query: 'q=1' });
    expect(parseTarget('')).toEqual({ path: '/', query: '' });
  });
});

describe('keys', () => {
  it('gives different keys to different hosts, paths, queries and vary values', () => {
    const t = parseTarget('/p?b=1&a=2');
    const keys = new Set([
      primaryKey('h:', 'a.test', t, ''),
      primaryKey('h:', 'b.test', t, ''),
      primaryKey('h:', 'a.test', parseTarget('/q?b=1&a=2'), ''),
      primaryKey('h:', 'a.test', parseTarget('/p?b=1'), ''),
      primaryKey('h:', 'a.test', t, headerHash(['authorization'], get({ authorization: 'x' }))),
      primaryKey('h:', 'a.test', t, headerHash(['authorization'], get({ authorization: 'y' }))),
    ]);
    expect(keys.size).toBe(6);
    expect(primaryKey('h:', 'a.test', parseTarget('/p?a=2&b=1'), '')).toBe(
      primaryKey('h:', 'a.test', t, ''),
    );
  });

  it('never puts a header value in the key as text', () => {
    const hash = headerHash(['authorization'], get({ authorization: 'Bearer secret-token' }));
    const key = primaryKey('h:', 'a.test', parseTarget('/me'), hash);
    expect(key).not.toContain('secret');
    expect(hash).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('hashes absent and empty values differently, and nothing when all are absent', () => {
    expect(headerHash(['x-a'], get({}))).toBe('');
    expect(headerHash(['x-a'], get({ 'x-a': '' }))).not.toBe('');
    expect(headerHash(['x-a', 'x-b'], get({ 'x-a': 'v' }))).not.toBe(
      headerHash(['x-a', 'x-b'], get({ 'x-b': 'v' })),
    );
  });

  it('normalises Accept-Encoding to the codings it accepts', () => {
    expect(normalizeAcceptEncoding('gzip, br;q=0.5, zstd;q=0')).toBe('br,gzip');
    expect(headerHash(['accept-encoding'], get({ 'accept-encoding': 'br, gzip' }))).toBe(
      headerHash(['accept-encoding'], get({ 'accept-encoding': 'gzip;q=1.0,br' })),
    );
  });

  it('keys the Cookie header as its non-ignored cookies, in any order', () => {
    const policy = {
      keyHeaders: ['cookie'],
      keyCookies: [],
      ignoreCookies: new IgnoredCookies(['_ga']),
    };
    const hash = (cookie?: string) =>
      primaryHash(policy, get(cookie === undefined ? {} : { cookie }));
    expect(hash('a=1; b=2')).toBe(hash('b=2; _ga=x; a=1'));
    expect(hash('a=1; b=2')).not.toBe(hash('a=1'));
    expect(hash('_ga=x')).toBe(hash());
    expect(hash()).toBe('');
    // Without cookies the hash is the plain header hash, so existing keys do not move.
    expect(primaryHash({ ...policy, keyHeaders: ['x-a'] }, get({ 'x-a': 'v' }))).toBe(
      headerHash(['x-a'], get({ 'x-a': 'v' })),
    );
  });

  it('keys only the named cookies for cookie:<name>', () => {
    const policy = { keyHeaders: [], keyCookies: ['sid'], ignoreCookies: new IgnoredCookies([]) };
    const hash = (cookie: string) => primaryHash(policy, get({ cookie }));
    expect(hash('sid=a; theme=1')).toBe(hash('theme=2; sid=a'));
    expect(hash('sid=a')).not.toBe(hash('sid=b'));
    expect(hash('theme=1')).toBe('');
  });

  it('hashes very long targets', () => {
    const key = primaryKey('h:', 'a', parseTarget(`/x?q=${'a'.repeat(5000)}`), '');
    expect(key.length).toBeLessThan(100);
  });

  it('puts variants under their primary key', () => {
    expect(variantKey('h:GET:a/p', 'abc')).toBe('h:GET:a/p v:abc');
  });
});

describe('path tags', () => {
  it('share one tag for a path with or without a trailing slash', () => {
    expect(pathTag('a.test', '/posts/')).toBe(pathTag('a.test', '/posts'));
    expect(pathTag('a.test', '/')).toBe('path:a.test/');
  });

  it('find the collection of a path', () => {
    expect(collectionPath('/posts/7')).toBe('/posts');
    expect(collectionPath('/posts/7/')).toBe('/posts');
    expect(collectionPath('/posts')).toBe('/');
    expect(collectionPath('/')).toBeUndefined();
  });
});
