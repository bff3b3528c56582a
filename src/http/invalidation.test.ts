import { describe, expect, it } from 'vitest';
import { invalidatesOn, writeTags } from './invalidation.js';

describe('write invalidation', () => {
  it('invalidates on 2xx and 3xx only', () => {
    expect([200, 201, 204, 303, 399].every(invalidatesOn)).toBe(true);
    expect([100, 400, 404, 409, 500, 503].some(invalidatesOn)).toBe(false);
  });

  it('covers the path and its collection, ignoring the query', () => {
    expect(writeTags('a.test', '/posts/7?x=1', undefined, undefined).sort()).toEqual([
      'path:a.test/posts',
      'path:a.test/posts/7',
    ]);
  });

  it('adds a same-host Location and Content-Location, absolute or relative (RFC 9111 §4.4)', () => {
    const tags = writeTags('a.test', '/posts', '/posts/8', 'http://a.test/feeds/latest');
    expect(tags).toContain('path:a.test/posts/8');
    expect(tags).toContain('path:a.test/feeds/latest');
    expect(writeTags('a.test', '/posts/7', '../authors/1', undefined)).toContain(
      'path:a.test/authors/1',
    );
  });

  it('never invalidates another host named in Location', () => {
    const tags = writeTags('a.test', '/posts', 'http://b.test/posts/8', undefined);
    expect(tags.some((t) => t.includes('b.test'))).toBe(false);
  });

  it('tags with the canonical host while a Location may name the request authority or it', () => {
    const tags = writeTags(
      'shop.example',
      '/posts',
      'http://internal:8080/posts/8',
      'http://shop.example/feeds/1',
      'internal:8080',
    );
    expect(tags.sort()).toEqual([
      'path:shop.example/',
      'path:shop.example/feeds/1',
      'path:shop.example/posts',
      'path:shop.example/posts/8',
    ]);
    expect(writeTags('shop.example', '/posts', 'http://b.test/x', undefined, 'a.test')).toEqual([
      'path:shop.example/posts',
      'path:shop.example/',
    ]);
  });
});
