import { describe, expect, it } from 'vitest';
import { contentRange, ifRangeMatches, type RangeAnswer, rangeAnswer } from './range.js';

const LM = 'Mon, 01 Jan 2029 00:00:00 GMT';
const DATE = 'Tue, 01 Jan 2030 00:00:00 GMT';
const headers = ['etag', '"v1"', 'last-modified', LM, 'date', DATE];

const partial = (start: number, end: number): RangeAnswer => ({
  kind: 'partial',
  start,
  end,
  size: 100,
});
const FULL: RangeAnswer = { kind: 'full' };
const NONE: RangeAnswer = { kind: 'unsatisfiable', size: 100 };

describe('rangeAnswer (RFC 9110 §14)', () => {
  it.each([
    ['bytes=0-9', partial(0, 9)],
    ['bytes=10-', partial(10, 99)],
    ['bytes=90-200', partial(90, 99)],
    ['bytes=-10', partial(90, 99)],
    ['bytes=-500', partial(0, 99)],
    ['Bytes = 5-5', partial(5, 5)],
    ['bytes=0-9,', partial(0, 9)],
    ['bytes=100-', NONE],
    ['bytes=150-200', NONE],
    ['bytes=-0', NONE],
    ['bytes=9-0', FULL],
    ['bytes=0-9, 20-29', FULL],
    ['bytes=-', FULL],
    ['bytes=a-b', FULL],
    ['items=0-9', FULL],
    ['0-9', FULL],
  ] as const)('%s of 100 bytes', (range, expected) => {
    expect(rangeAnswer(range, undefined, 200, headers, 100)).toEqual(expected);
  });

  it('ignores Range for a stored status other than 200 and for an empty body', () => {
    expect(rangeAnswer('bytes=0-9', undefined, 404, headers, 100)).toEqual(FULL);
    expect(rangeAnswer('bytes=0-9', undefined, 200, headers, 0)).toEqual(FULL);
    expect(rangeAnswer(undefined, undefined, 200, headers, 100)).toEqual(FULL);
  });

  it.each([
    ['the strong ETag', '"v1"', partial(0, 9)],
    ['another ETag', '"v2"', FULL],
    ['a weak ETag (strong comparison)', 'W/"v1"', FULL],
    ['the exact Last-Modified', LM, partial(0, 9)],
    ['another date', 'Tue, 02 Jan 2029 00:00:00 GMT', FULL],
    ['garbage', 'yesterday', FULL],
  ] as const)('applies the range when If-Range is %s (§13.1.5)', (_what, ifRange, expected) => {
    expect(rangeAnswer('bytes=0-9', ifRange, 200, headers, 100)).toEqual(expected);
  });

  it('never matches a weak stored ETag or a Last-Modified within a second of Date', () => {
    expect(ifRangeMatches('"v1"', ['etag', 'W/"v1"'])).toBe(false);
    expect(ifRangeMatches(LM, ['last-modified', LM, 'date', LM])).toBe(false);
    expect(ifRangeMatches(LM, ['last-modified', LM])).toBe(false);
  });

  it('formats Content-Range (§14.4)', () => {
    expect(contentRange({ kind: 'partial', start: 0, end: 9, size: 100 })).toBe('bytes 0-9/100');
    expect(contentRange({ kind: 'unsatisfiable', size: 100 })).toBe('bytes */100');
  });
});
