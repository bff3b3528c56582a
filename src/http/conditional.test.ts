import { describe, expect, it } from 'vitest';
import { etagListMatches, notModified, notModifiedHeaders } from './conditional.js';

const headers = [
  'etag',
  'W/"v1"',
  'last-modified',
  'Tue, 01 Jan 2030 00:00:00 GMT',
  'content-type',
  'text/plain',
];

describe('conditional requests', () => {
  it('matches If-None-Match weakly, in lists and with *', () => {
    expect(etagListMatches('"v1"', 'W/"v1"')).toBe(true);
    expect(etagListMatches('"a", W/"v1"', '"v1"')).toBe(true);
    expect(etagListMatches('*', '"x"')).toBe(true);
    expect(etagListMatches('"v2"', '"v1"')).toBe(false);
  });

  it('lets If-None-Match take precedence over If-Modified-Since', () => {
    const since = 'Wed, 01 Jan 2031 00:00:00 GMT';
    expect(notModified({ ifNoneMatch: '"other"', ifModifiedSince: since }, 200, headers)).toBe(
      false,
    );
    expect(notModified({ ifNoneMatch: undefined, ifModifiedSince: since }, 200, headers)).toBe(
      true,
    );
  });

  it('answers If-Modified-Since only when the resource is not newer, ignoring bad dates', () => {
    const older = 'Mon, 01 Jan 2029 00:00:00 GMT';
    expect(notModified({ ifNoneMatch: undefined, ifModifiedSince: older }, 200, headers)).toBe(
      false,
    );
    expect(notModified({ ifNoneMatch: undefined, ifModifiedSince: 'garbage' }, 200, headers)).toBe(
      false,
    );
  });

  it('only turns 200s into 304s', () => {
    expect(notModified({ ifNoneMatch: '"v1"', ifModifiedSince: undefined }, 404, headers)).toBe(
      false,
    );
  });

  it('keeps only the caching fields on a 304', () => {
    expect(notModifiedHeaders(headers)).toEqual(headers.slice(0, 4));
  });
});
