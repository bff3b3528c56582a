import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from './http-date.js';

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2026, 0, 1);

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it.each([
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['RFC 850', 'Sunday, 06-Nov-94 08:49:37 GMT'],
    ['asctime, one-digit day padded with a space', 'Sun Nov  6 08:49:37 1994'],
  ])('accepts the %s form', (_form, value) => {
    expect(parseHttpDate(value, NOW)).toBe(NOV_6_1994);
  });

  it('reads an asctime two-digit day and a leap second', () => {
    expect(parseHttpDate('Wed Dec 31 23:59:60 2025', NOW)).toBe(Date.UTC(2026, 0, 1));
    expect(parseHttpDate('Thu Nov 16 08:49:37 1995', NOW)).toBe(Date.UTC(1995, 10, 16, 8, 49, 37));
  });

  it('reads an RFC 850 year more than 50 years ahead as the past century', () => {
    expect(parseHttpDate('Monday, 01-Jan-75 00:00:00 GMT', NOW)).toBe(Date.UTC(2075, 0, 1));
    expect(parseHttpDate('Monday, 01-Jan-77 00:00:00 GMT', NOW)).toBe(Date.UTC(1977, 0, 1));
  });

  it.each([
    ['UTC instead of GMT', 'Sun, 06 Nov 1994 08:49:37 UTC'],
    ['no zone', 'Sun, 06 Nov 1994 08:49:37'],
    ['missing comma', 'Sun 06 Nov 1994 08:49:37 GMT'],
    ['extra spaces', 'Sun,  06 Nov 1994 08:49:37 GMT'],
    ['trailing space', 'Sun, 06 Nov 1994 08:49:37 GMT '],
    ['dashes in an IMF-fixdate', 'Sun, 06-Nov-1994 08:49:37 GMT'],
    ['one-digit hour', 'Sun, 06 Nov 1994 8:49:37 GMT'],
    ['one-digit day', 'Sun, 6 Nov 1994 08:49:37 GMT'],
    ['two-digit year in IMF-fixdate', 'Sun, 06 Nov 94 08:49:37 GMT'],
    ['lowercase month', 'Sun, 06 nov 1994 08:49:37 GMT'],
    ['long day name in IMF-fixdate', 'Sunday, 06 Nov 1994 08:49:37 GMT'],
    ['several lines joined', 'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT'],
    ['zero', '0'],
    ['-1', '-1'],
    ['ISO 8601', '1994-11-06T08:49:37Z'],
    ['31 February', 'Tue, 31 Feb 1995 08:49:37 GMT'],
    ['hour 24', 'Sun, 06 Nov 1994 24:00:00 GMT'],
    ['empty', ''],
  ])('rejects %s', (_what, value) => {
    expect(parseHttpDate(value, NOW)).toBeUndefined();
  });

  it('formats IMF-fixdate that it parses back', () => {
    expect(formatHttpDate(NOV_6_1994)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(parseHttpDate(formatHttpDate(NOW))).toBe(NOW);
  });
});
