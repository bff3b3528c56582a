import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import {
  computeFreshness,
  currentAgeMs,
  type FreshnessInput,
  REVALIDATION_KEEP_MS,
  requestFreshness,
  storageTtlMs,
  usability,
  usableOnError,
} from './freshness.js';

const T0 = 1_700_000_000_000;

function input(cc: string, extra: Partial<FreshnessInput> = {}): FreshnessInput {
  return {
    directives: parseCacheControl(cc),
    date: T0,
    expires: undefined,
    age: undefined,
    requestTime: T0,
    responseTime: T0,
    defaultTtlMs: undefined,
    staleWhileRevalidate: true,
    staleIfError: true,
    ...extra,
  };
}

describe('computeFreshness', () => {
  it('prefers s-maxage over max-age over Expires over the policy ttl', () => {
    expect(computeFreshness(input('s-maxage=5, max-age=50')).lifetimeMs).toBe(5000);
    expect(computeFreshness(input('max-age=50', { defaultTtlMs: 1 })).lifetimeMs).toBe(50_000);
    const expires = new Date(T0 + 30_000).toUTCString();
    expect(computeFreshness(input('', { expires, defaultTtlMs: 1 })).lifetimeMs).toBe(30_000);
    expect(computeFreshness(input('', { defaultTtlMs: 7000 })).lifetimeMs).toBe(7000);
    expect(computeFreshness(input('')).lifetimeMs).toBe(0);
  });

  it('treats an invalid Expires as already expired (RFC 9111 §5.3)', () => {
    expect(computeFreshness(input('', { expires: '0', defaultTtlMs: 9000 })).lifetimeMs).toBe(0);
  });

  it('computes the corrected initial age from Age, Date and the response delay', () => {
    const info = computeFreshness(
      input('max-age=60', { age: '10', requestTime: T0, responseTime: T0 + 2000, date: T0 }),
    );
    expect(info.initialAgeMs).toBe(12_000);
    expect(currentAgeMs(info, T0 + 5000)).toBe(15_000);
  });

  it('honours stale-while-revalidate and stale-if-error unless must-revalidate or s-maxage', () => {
    const info = computeFreshness(input('max-age=1, stale-while-revalidate=5, stale-if-error=9'));
    expect(info.swrMs).toBe(5000);
    expect(info.sieMs).toBe(9000);
    const strict = computeFreshness(input('max-age=1, must-revalidate, stale-while-revalidate=5'));
    expect(strict.swrMs).toBe(0);
    const shared = computeFreshness(input('s-maxage=1, stale-if-error=5'));
    expect(shared.sieMs).toBe(0);
  });

  it('lets the policy turn stale windows off or supply a default', () => {
    expect(
      computeFreshness(
        input('max-age=1, stale-while-revalidate=5', { staleWhileRevalidate: false }),
      ).swrMs,
    ).toBe(0);
    expect(computeFreshness(input('max-age=1', { staleIfError: 3000 })).sieMs).toBe(3000);
  });
});

describe('usability', () => {
  const info = computeFreshness(input('max-age=10, stale-while-revalidate=5, stale-if-error=20'));

  it('is fresh within the lifetime, then stale-while-revalidate, then stale', () => {
    expect(usability(info, T0 + 9_999)).toBe('fresh');
    expect(usability(info, T0 + 10_000)).toBe('stale-while-revalidate');
    expect(usability(info, T0 + 15_000)).toBe('stale');
  });

  it('obeys the request directives no-cache, max-age and min-fresh', () => {
    const at = T0 + 4000;
    expect(usability(info, at, requestFreshness(parseCacheControl('no-cache')))).toBe('stale');
    expect(usability(info, at, requestFreshness(parseCacheControl('max-age=3')))).toBe('stale');
    expect(usability(info, at, requestFreshness(parseCacheControl('max-age=5')))).toBe('fresh');
    expect(usability(info, at, requestFreshness(parseCacheControl('min-fresh=7')))).toBe('stale');
  });

  it('never serves a no-cache response without validation', () => {
    expect(usability(computeFreshness(input('no-cache, max-age=60')), T0)).toBe('stale');
  });

  it('serves on error within stale-if-error only', () => {
    expect(usableOnError(info, T0 + 29_000)).toBe(true);
    expect(usableOnError(info, T0 + 30_000)).toBe(false);
  });

  it('keeps entries for their freshness plus the longest stale window', () => {
    expect(storageTtlMs(info, T0)).toBe(30_000);
    expect(storageTtlMs(computeFreshness(input('max-age=0')), T0)).toBe(0);
  });
});

describe('Expires, Age and duplicates (RFC 9111 §4.2.1, §5.1, §5.3; RFC 9110 §5.6.7)', () => {
  const at30 = new Date(T0 + 30_000);
  const imf = at30.toUTCString();
  it.each([
    ['IMF-fixdate', imf, 30_000],
    [
      'RFC 850',
      imf.replace(
        /^(\w{3}), (\d{2}) (\w{3}) \d{2}(\d{2})/,
        (_, d, dd, m, yy) =>
          `${({ Sun: 'Sunday', Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday' } as Record<string, string>)[d]}, ${dd}-${m}-${yy}`,
      ),
      30_000,
    ],
    [
      'asctime',
      `${imf.slice(0, 3)} ${imf.slice(8, 11)} ${String(at30.getUTCDate()).padStart(2, ' ')} ${imf.slice(17, 25)} ${at30.getUTCFullYear()}`,
      30_000,
    ],
    ['UTC instead of GMT', imf.replace('GMT', 'UTC'), 0],
    ['missing comma', imf.replace(',', ''), 0],
    ['extra spaces', imf.replace(' ', '  '), 0],
    ['dashes', imf.replace(/ (\w{3}) /, '-$1-'), 0],
    ['one-digit hour', imf.replace(/ \d(\d):/, ' $1:'), 0],
    ['several lines', `${imf}, ${imf}`, 0],
    ['0', '0', 0],
  ])('reads an Expires in %s', (_what, expires, lifetime) => {
    // A policy ttl must not rescue an invalid Expires: the origin did state a lifetime.
    expect(computeFreshness(input('', { expires, defaultTtlMs: 9000 })).lifetimeMs).toBe(lifetime);
  });

  it.each([
    ['a number', '10', 10_000],
    ['the first member of a list', '10, 50', 10_000],
    ['the first of repeated lines (joined)', '10,50', 10_000],
    ['nothing for a non-numeric value', 'ten', 0],
    ['nothing for a negative value', '-5', 0],
    ['nothing when the first member is invalid', 'x, 50', 0],
  ])('takes from Age %s', (_what, age, initialAge) => {
    expect(computeFreshness(input('max-age=60', { age })).initialAgeMs).toBe(initialAge);
  });

  it('treats conflicting max-age values as stale and honours no-cache over max-age', () => {
    expect(computeFreshness(input('max-age=60, max-age=5')).lifetimeMs).toBe(0);
    expect(usability(computeFreshness(input('max-age=60, no-cache')), T0)).toBe('stale');
  });
});

describe('heuristic freshness (RFC 9111 §4.2.2)', () => {
  const tenDaysAgo = T0 - 10 * 86_400_000;
  it.each([
    [200, T0 - 1_000_000, undefined, 100_000],
    [404, T0 - 1_000_000, undefined, 100_000],
    [501, T0 - 1_000_000, undefined, 100_000],
    [200, tenDaysAgo, undefined, 86_400_000],
    [200, T0 - 1_000_000, 5000, 5000],
    [302, T0 - 1_000_000, undefined, 0],
    [500, T0 - 1_000_000, undefined, 0],
    [200, undefined, undefined, 0],
    [200, T0 + 5000, undefined, 0],
  ])(
    'status %s, Last-Modified %s, policy ttl %s → %s ms',
    (status, lastModified, ttl, lifetime) => {
      expect(
        computeFreshness(input('', { status, lastModified, defaultTtlMs: ttl })).lifetimeMs,
      ).toBe(lifetime);
    },
  );

  it('never applies when the origin gave an explicit lifetime', () => {
    const lastModified = T0 - 1_000_000;
    expect(computeFreshness(input('max-age=0', { lastModified })).lifetimeMs).toBe(0);
  });
});

describe('request directives and must-revalidate (RFC 9111 §5.2.1, §5.2.2.2; RFC 8246)', () => {
  const req = (cc: string) => requestFreshness(parseCacheControl(cc));
  const plain = computeFreshness(input('max-age=10'));
  const strict = computeFreshness(input('max-age=10, must-revalidate'));
  const proxy = computeFreshness(input('max-age=10, proxy-revalidate'));
  const immutable = computeFreshness(input('max-age=10, immutable'));
  it.each([
    ['max-stale=5 within', plain, 'max-stale=5', T0 + 14_000, 'max-stale'],
    ['max-stale=5 past', plain, 'max-stale=5', T0 + 16_000, 'stale'],
    ['max-stale without a value', plain, 'max-stale', T0 + 999_000, 'max-stale'],
    ['max-stale on must-revalidate', strict, 'max-stale', T0 + 11_000, 'stale'],
    ['max-stale on proxy-revalidate', proxy, 'max-stale', T0 + 11_000, 'stale'],
    ['no-cache on immutable, fresh', immutable, 'no-cache', T0 + 5000, 'fresh'],
    ['max-age=0 on immutable, fresh', immutable, 'max-age=0', T0 + 5000, 'fresh'],
    ['no-cache on immutable, stale', immutable, 'no-cache', T0 + 11_000, 'stale'],
    ['no-cache on a plain response', plain, 'no-cache', T0 + 5000, 'stale'],
    ['min-fresh on immutable', immutable, 'min-fresh=8', T0 + 5000, 'stale'],
  ] as const)('%s', (_what, info, cc, now, expected) => {
    expect(usability(info, now, req(cc))).toBe(expected);
  });
});

describe('storageTtlMs with a validator (RFC 9111 §4.3)', () => {
  it('keeps a validatable entry past its freshness so it can be revalidated', () => {
    expect(storageTtlMs(computeFreshness(input('')), T0, true)).toBe(REVALIDATION_KEEP_MS);
    expect(storageTtlMs(computeFreshness(input('max-age=10')), T0, true)).toBe(
      10_000 + REVALIDATION_KEEP_MS,
    );
    expect(storageTtlMs(computeFreshness(input('')), T0, false)).toBe(0);
  });
});
