import { describe, expect, it } from 'vitest';
import { hostResolver } from './host.js';

const headers =
  (h: Record<string, string>) =>
  (name: string): string | undefined =>
    h[name];

describe('the host of keys and path tags', () => {
  it("is the request's own Host by default, lowercased, else :authority (RFC 9111 §4)", () => {
    const host = hostResolver(undefined);
    expect(host(headers({ host: 'Shop.Example:8080' }), '/')).toBe('shop.example:8080');
    expect(host(headers({ ':authority': 'h2.example' }), '/')).toBe('h2.example');
    expect(host(headers({}), '/')).toBe('');
  });

  it('is the canonical host when the option is a string', () => {
    const host = hostResolver('Shop.Example.');
    expect(host(headers({ host: 'internal:3917' }), '/')).toBe('shop.example');
  });

  it('is what the function returns, normalised, given the request', () => {
    const host = hostResolver((r) => (r.header('x-site') ?? r.host).toUpperCase());
    expect(host(headers({ host: 'a:1', 'x-site': 'B.test' }), '/p')).toBe('b.test');
    expect(host(headers({ host: 'a:1' }), '/p')).toBe('a:1');
    const seen: string[] = [];
    hostResolver((r) => {
      seen.push(r.url);
      return r.host;
    })(headers({}), '/x?y=1');
    expect(seen).toEqual(['/x?y=1']);
  });

  it('rejects a bad option with INVALID_CONFIG naming options.host', () => {
    for (const bad of ['', 'http://shop.example', 'shop.example/path', 'a b', 'u@shop', 42]) {
      expect(() => hostResolver(bad as string)).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          message: expect.stringMatching(/options\.host/),
        }),
      );
    }
    const returnsNumber = hostResolver((() => 7) as unknown as () => string);
    expect(() => returnsNumber(headers({}), '/')).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/options\.host/),
      }),
    );
  });
});
