import { describe, expect, it } from 'vitest';
import type { StoredResponse } from './entry.js';
import { hasValidator, refreshedHeaders, validatorsOf } from './revalidation.js';

const info = { responseTime: 0, initialAgeMs: 0, lifetimeMs: 0, swrMs: 0, sieMs: 0, noCache: true };
const stored = (status: number, headers: string[]): StoredResponse => ({
  status,
  headers,
  body: Buffer.from('x'),
  info,
  repeatedNames: false,
});

describe('revalidation', () => {
  it('asks with the stored ETag and Last-Modified', () => {
    expect(
      validatorsOf(stored(200, ['etag', '"a"', 'last-modified', 'Mon, 01 Jan 2029 00:00:00 GMT'])),
    ).toEqual(['if-none-match', '"a"', 'if-modified-since', 'Mon, 01 Jan 2029 00:00:00 GMT']);
    expect(validatorsOf(stored(200, ['content-type', 'text/plain']))).toBeUndefined();
    expect(validatorsOf(stored(404, ['etag', '"a"']))).toBeUndefined();
  });

  it('lets the 304 replace stored fields, never Content-Length, and stamps a Date', () => {
    const now = Date.UTC(2030, 0, 1);
    const out = refreshedHeaders(
      ['content-type', 'text/plain', 'etag', '"a"', 'cache-control', 'max-age=1', 'date', 'old'],
      ['cache-control', 'max-age=60', 'content-length', '0', 'x-new', '1'],
      now,
    );
    expect(out).toEqual([
      'content-type',
      'text/plain',
      'etag',
      '"a"',
      'cache-control',
      'max-age=60',
      'x-new',
      '1',
      'date',
      new Date(now).toUTCString(),
    ]);
  });

  it.each([
    ['content-length', '0'],
    ['content-encoding', 'br'],
    ['transfer-encoding', 'chunked'],
    ['connection', 'x-hop'],
    ['x-hop', '1'],
    ['keep-alive', 'timeout=5'],
  ])('never takes %s from a 304 (RFC 9111 §3.2)', (name, value) => {
    const storedHeaders = ['content-encoding', 'gzip', 'date', 'd'];
    const out = refreshedHeaders(
      storedHeaders,
      ['connection', 'x-hop', name, value, 'date', 'd2'],
      0,
    );
    expect(out).toEqual(['content-encoding', 'gzip', 'date', 'd2']);
  });

  it.each([
    [200, ['etag', '"a"'], true],
    [200, ['last-modified', 'Mon, 01 Jan 2029 00:00:00 GMT'], true],
    [200, ['content-type', 'text/plain'], false],
    [404, ['etag', '"a"'], false],
  ] as const)('status %s with %j can be revalidated: %s', (status, headers, expected) => {
    expect(hasValidator(status, [...headers])).toBe(expected);
  });
});
