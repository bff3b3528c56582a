import { describe, expect, it } from 'vitest';
import {
  deltaSecondsMs,
  fieldNames,
  MAX_DELTA_SECONDS,
  parseCacheControl,
} from './cache-control.js';

describe('parseCacheControl', () => {
  it('reads directives case-insensitively, with and without arguments', () => {
    const cc = parseCacheControl('Public, MAX-AGE=60, s-maxage="30", no-transform');
    expect(cc.public).toBe(true);
    expect(cc['max-age']).toBe('60');
    expect(cc['s-maxage']).toBe('30');
    expect(cc['no-transform']).toBe(true);
  });

  it.each([
    // RFC 9111 §4.2.1: duplicates with different values → stale, or the most restrictive.
    ['max-age=10, max-age=99', 'max-age', '0'],
    ['max-age=10, max-age=10', 'max-age', '10'],
    ['s-maxage=5, s-maxage=50', 's-maxage', '0'],
    ['stale-while-revalidate=5, stale-while-revalidate=9', 'stale-while-revalidate', '0'],
    ['max-stale, max-stale=5', 'max-stale', '0'],
    ['min-fresh=5, min-fresh=20', 'min-fresh', '20'],
    ['no-cache="a", no-cache', 'no-cache', true],
    ['private="a", private="b"', 'private', 'a, b'],
    ['foo=1, foo=2', 'foo', '1'],
  ] as const)('resolves %s (RFC 9111 §4.2.1)', (value, name, expected) => {
    expect(parseCacheControl(value)[name]).toBe(expected);
  });

  it('resolves duplicates across field lines as within one', () => {
    expect(parseCacheControl(['max-age=10', 'max-age=99'])['max-age']).toBe('0');
  });

  it('joins several field lines', () => {
    const cc = parseCacheControl(['max-age=5', 'private']);
    expect(cc['max-age']).toBe('5');
    expect(cc.private).toBe(true);
  });

  it('unquotes quoted strings with commas and escapes inside', () => {
    const cc = parseCacheControl('no-cache="set-cookie, x-a", private="x\\"y", max-age=1');
    expect(cc['no-cache']).toBe('set-cookie, x-a');
    expect(cc.private).toBe('x"y');
    expect(fieldNames(cc, 'no-cache')).toEqual(['set-cookie', 'x-a']);
  });

  it('returns an empty set for absent or empty values', () => {
    expect(Object.keys(parseCacheControl(undefined))).toEqual([]);
    expect(Object.keys(parseCacheControl(''))).toEqual([]);
    expect(Object.keys(parseCacheControl(' , ,'))).toEqual([]);
  });
});

describe('deltaSecondsMs', () => {
  it('converts seconds to ms and is undefined when absent', () => {
    const cc = parseCacheControl('max-age=2');
    expect(deltaSecondsMs(cc, 'max-age')).toBe(2000);
    expect(deltaSecondsMs(cc, 's-maxage')).toBeUndefined();
  });

  it('reads malformed values as 0 (stale), never as fresh for ever', () => {
    expect(deltaSecondsMs(parseCacheControl('max-age=abc'), 'max-age')).toBe(0);
    expect(deltaSecondsMs(parseCacheControl('max-age=-5'), 'max-age')).toBe(0);
    expect(deltaSecondsMs(parseCacheControl('max-age'), 'max-age')).toBe(0);
  });

  it('clamps huge values to 2^31 seconds (RFC 9111 §1.2.2)', () => {
    expect(deltaSecondsMs(parseCacheControl('max-age=99999999999999'), 'max-age')).toBe(
      MAX_DELTA_SECONDS * 1000,
    );
  });
});
