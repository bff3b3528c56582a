import { describe, expect, it } from 'vitest';
import { decode, encodeResponse, type StoredResponse } from './entry.js';
import {
  combine,
  type HeldParts,
  heldAnswer,
  heldSlice,
  isComplete,
  parseContentRange,
  sameRepresentation,
} from './partial-content.js';

const INFO = {
  responseTime: 0,
  initialAgeMs: 0,
  lifetimeMs: 60_000,
  swrMs: 0,
  sieMs: 0,
  noCache: false,
};
const BYTES = Buffer.from('abcdefghijklmnopqrstuvwxyz');

function partial(spans: [number, number][], headers: string[] = ['etag', '"v1"']): StoredResponse {
  const body = Buffer.concat(spans.map(([s, e]) => BYTES.subarray(s, e + 1)));
  return {
    status: 206,
    headers,
    body,
    info: INFO,
    repeatedNames: false,
    parts: { size: BYTES.length, spans },
  };
}

describe('Content-Range (RFC 9110 §14.4)', () => {
  it.each([
    ['bytes 0-9/100', { start: 0, end: 9, size: 100 }],
    ['BYTES 5-5/6', { start: 5, end: 5, size: 6 }],
    ['bytes 0-9/*', undefined],
    ['bytes */100', undefined],
    ['bytes 9-0/100', undefined],
    ['bytes 0-100/100', undefined],
    ['items 0-9/100', undefined],
  ] as const)('%s', (value, expected) => {
    expect(parseContentRange(value)).toEqual(expected);
  });
});

describe('a partial entry answers only what it holds (RFC 9111 §3.3)', () => {
  const stored = partial([
    [0, 4],
    [10, 14],
  ]);
  const parts = stored.parts as HeldParts;
  const answer = (range: string | undefined, ifRange?: string) =>
    heldAnswer(parts, stored.headers, range, ifRange);

  it('a range wholly inside a held range: 206', () => {
    expect(answer('bytes=1-3')).toEqual({ kind: 'partial', start: 1, end: 3, size: 26 });
    expect(answer('bytes=10-14', '"v1"')).toEqual({
      kind: 'partial',
      start: 10,
      end: 14,
      size: 26,
    });
    expect(heldSlice(parts, stored.body, 11, 13).toString()).toBe('lmn');
  });

  it('past the known length: 416', () => {
    expect(answer('bytes=30-')).toEqual({ kind: 'unsatisfiable', size: 26 });
  });

  it('anything else goes to the origin', () => {
    expect(answer(undefined)).toBeUndefined();
    expect(answer('bytes=3-11')).toBeUndefined();
    expect(answer('bytes=-3')).toBeUndefined();
    expect(answer('bytes=0-1, 10-11')).toBeUndefined();
    expect(answer('bytes=0-1', '"v2"')).toBeUndefined();
    expect(answer('bytes=0-1', 'W/"v1"')).toBeUndefined();
  });
});

describe('combining parts (RFC 9111 §3.4, RFC 9110 §15.3.7.3)', () => {
  it('joins overlapping and adjacent ranges, in order, bytes intact', () => {
    const stored = partial([
      [0, 4],
      [10, 14],
    ]);
    const union = combine(stored, { start: 5, end: 11, size: 26 }, BYTES.subarray(5, 12), 1000);
    expect(union?.parts.spans).toEqual([[0, 14]]);
    expect(union?.body.toString()).toBe('abcdefghijklmno');
    const apart = combine(stored, { start: 20, end: 21, size: 26 }, BYTES.subarray(20, 22), 1000);
    expect(apart?.parts.spans).toEqual([
      [0, 4],
      [10, 14],
      [20, 21],
    ]);
    expect(apart?.body.toString()).toBe('abcdeklmnouv');
  });

  it('is complete when the union is the whole representation', () => {
    const stored = partial([[0, 19]]);
    const union = combine(stored, { start: 15, end: 25, size: 26 }, BYTES.subarray(15), 1000);
    expect(union !== undefined && isComplete(union.parts)).toBe(true);
    expect(union?.body.equals(BYTES)).toBe(true);
  });

  it('never holds more than the bound', () => {
    const stored = partial([[0, 9]]);
    expect(combine(stored, { start: 10, end: 19, size: 26 }, BYTES.subarray(10, 20), 19)).toBe(
      undefined,
    );
  });

  it('same representation: the same strong validator and complete length', () => {
    const stored = partial([[0, 4]]);
    expect(sameRepresentation(stored, ['etag', '"v1"'], 26)).toBe(true);
    expect(sameRepresentation(stored, ['etag', '"v2"'], 26)).toBe(false);
    expect(sameRepresentation(stored, ['etag', '"v1"'], 27)).toBe(false);
    expect(sameRepresentation(stored, [], 26)).toBe(false);
    const weak = partial([[0, 4]], ['etag', 'W/"v1"']);
    expect(sameRepresentation(weak, ['etag', 'W/"v1"'], 26)).toBe(false);
    // Last-Modified is strong when at least a second older than Date (RFC 9110 §8.8.2.2).
    const lm = 'Mon, 01 Jan 2029 00:00:00 GMT';
    const later = ['last-modified', lm, 'date', 'Tue, 02 Jan 2029 00:00:00 GMT'];
    const same = ['last-modified', lm, 'date', lm];
    expect(sameRepresentation(partial([[0, 4]], later), later, 26)).toBe(true);
    expect(sameRepresentation(partial([[0, 4]], same), same, 26)).toBe(false);
  });
});

describe('a partial entry is stored with its ranges (entry.ts)', () => {
  it('round-trips parts and keeps them out of the headers', () => {
    const stored = partial(
      [
        [0, 4],
        [10, 14],
      ],
      ['etag', '"v1"', 'access-control-expose-headers', 'content-range'],
    );
    const decoded = decode(encodeResponse(stored));
    expect(decoded?.kind).toBe('response');
    const response = decoded?.kind === 'response' ? decoded.response : undefined;
    expect(response?.status).toBe(206);
    expect(response?.headers).toEqual(stored.headers);
    expect(response?.parts).toEqual(stored.parts);
    expect(response?.body.toString()).toBe('abcdeklmno');
  });

  it('a 206 without valid ranges reads as a miss', () => {
    const bad = encodeResponse({ ...partial([[0, 4]]), parts: { size: 26, spans: [[0, 9]] } });
    expect(decode(bad)).toBeUndefined();
  });
});
