import { describe, expect, it } from 'vitest';
import { parseCacheControl } from './cache-control.js';
import {
  computeFreshness,
  currentAgeMs,
  type FreshnessInput,
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
