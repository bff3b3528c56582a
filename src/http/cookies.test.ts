import { describe, expect, it } from 'vitest';
import {
  cookieKeyText,
  hasMeaningfulCookie,
  IgnoredCookies,
  ignoredCookies,
  namedCookiesKeyText,
  parseCookies,
} from './cookies.js';

describe('parseCookies (RFC 6265 §5.4)', () => {
  it('splits on ";", trims pairs, keeps raw values and every occurrence', () => {
    expect(parseCookies(' a=1;b = 2 ; ; c=x%20y; a=3; d=e=f')).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', 'x%20y'],
      ['a', '3'],
      ['d', 'e=f'],
    ]);
  });

  it('reads a bare segment as a nameless cookie, never as nothing', () => {
    expect(parseCookies('token')).toEqual([['', 'token']]);
    expect(parseCookies(' ; ')).toEqual([]);
  });
});

describe('ignored cookies', () => {
  const ignored = new IgnoredCookies(['_ga', '_ga_*', 'utm?']);

  it('match names exactly (case-sensitive) or by Redis-style glob', () => {
    expect(['_ga', '_ga_XYZ', 'utmz'].every((n) => ignored.has(n))).toBe(true);
    expect(['_GA', '_gat', 'sid', 'utm'].some((n) => ignored.has(n))).toBe(false);
  });

  it('make a request whose only cookies are ignored cookieless', () => {
    expect(hasMeaningfulCookie('_ga=1; _ga_X=2', ignored)).toBe(false);
    expect(hasMeaningfulCookie('_ga=1; sid=2', ignored)).toBe(true);
    expect(hasMeaningfulCookie('', ignored)).toBe(false);
    expect(hasMeaningfulCookie(' ; ', new IgnoredCookies([]))).toBe(false);
    expect(hasMeaningfulCookie('x', new IgnoredCookies([]))).toBe(true);
  });

  it('reject anything that is not a cookie name or glob, naming the option', () => {
    expect(() => ignoredCookies(['ok', ''], 'options.ignoreCookies', 'INVALID_CONFIG')).toThrow(
      /options\.ignoreCookies\[1\]/,
    );
    expect(() => ignoredCookies(['a=b'], 'policy.ignoreCookies', 'INVALID_ARGUMENT')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() =>
      ignoredCookies('_ga' as unknown as string[], 'options.ignoreCookies', 'INVALID_CONFIG'),
    ).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});

describe('cookie key text', () => {
  const ignored = new IgnoredCookies(['_ga']);

  it('keys every cookie but the ignored ones, sorted by name, repeated names in order', () => {
    expect(cookieKeyText('b=2; _ga=9; a=1; b=1', ignored)).toBe('a=1; b=2; b=1');
    expect(cookieKeyText('a=1; b=2', ignored)).toBe(cookieKeyText('b=2; a=1; _ga=3', ignored));
    expect(cookieKeyText('_ga=1', ignored)).toBe('');
  });

  it('keys named cookies by their raw values, absent and empty apart', () => {
    const sid = (h: string | undefined) => namedCookiesKeyText(h, ['sid']);
    expect(sid('theme=dark; sid=a')).toBe(sid('sid=a; lang=en'));
    expect(sid('sid=a')).not.toBe(sid('sid=b'));
    expect(sid('sid=a%20b')).not.toBe(sid('sid=a b'));
    expect(sid('sid=')).not.toBe(sid('theme=dark'));
    expect(sid('theme=dark')).toBe('');
    expect(sid(undefined)).toBe('');
    // A repeated name is keyed with all its values: origins differ in which one they read.
    expect(sid('sid=a; sid=b')).not.toBe(sid('sid=a'));
  });
});
