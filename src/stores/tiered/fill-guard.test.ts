import { describe, expect, it } from 'vitest';
import { FillGuard } from './fill-guard.js';

describe('FillGuard', () => {
  it('refuses a fill that overlapped an invalidation of its key', () => {
    const guard = new FillGuard();
    const fill = guard.begin();
    guard.key('k');
    expect(guard.end(fill, 'k')).toBe(false);
  });

  it('lets a fill of another key, or one that began after the invalidation, store', () => {
    const guard = new FillGuard();
    const other = guard.begin();
    guard.key('k');
    const later = guard.begin();
    expect(guard.end(other, 'j')).toBe(true);
    expect(guard.end(later, 'k')).toBe(true);
  });

  it('refuses every fill in flight after a pattern, a clear or a resync', () => {
    const guard = new FillGuard();
    const a = guard.begin();
    const b = guard.begin();
    guard.all();
    expect(guard.end(a, 'x')).toBe(false);
    expect(guard.end(b, 'y')).toBe(false);
    expect(guard.end(guard.begin(), 'x')).toBe(true);
  });

  it('forgets invalidations once no fill is in flight, without letting an old fill through', () => {
    const guard = new FillGuard();
    const old = guard.begin();
    guard.key('k');
    expect(guard.end(old, 'k')).toBe(false);
    // Nothing in flight: nothing recorded, and the next fill is not refused by the past.
    guard.key('k');
    expect(guard.end(guard.begin(), 'k')).toBe(true);
  });
});
