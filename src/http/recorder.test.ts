import { describe, expect, it } from 'vitest';
import { MemoryCache } from '../stores/memory/memory-cache.js';
import { CachingMiddleware } from './caching-middleware.js';
import type { SkipReason } from './events.js';
import type { Recorder } from './recorder.js';

/** A recorder for a fresh miss on `/p`, and the skip reasons the middleware reports. */
async function miss(): Promise<{
  recorder: Recorder;
  skips: SkipReason[];
  mw: CachingMiddleware;
  decided: Promise<void>;
}> {
  const cache = new MemoryCache();
  const mw = new CachingMiddleware(cache);
  const skips: SkipReason[] = [];
  mw.on('skip', ({ reason }) => skips.push(reason));
  const route = mw.route({ ttl: '1m', maxBodySize: 8 });
  const plan = route.begin('GET', '/p', (n) => (n === 'host' ? 'a.test' : undefined));
  if (plan.kind !== 'read') throw new Error('expected a read');
  const outcome = await route.lookup(plan.ctx);
  if (outcome.kind !== 'fetch') throw new Error('expected a miss');
  // The recorder's one decision: stored (once the write landed) or skipped.
  const decided = new Promise<void>((resolve) => {
    mw.on('store', () => resolve());
    mw.on('skip', () => resolve());
  });
  return { recorder: outcome.recorder, skips, mw, decided };
}

describe('Recorder: one decision, one named reason per unstored response', () => {
  it('does not store a body shorter than its Content-Length', async () => {
    const { recorder, skips, mw, decided } = await miss();
    recorder.head(200, ['content-length', '6']);
    recorder.chunk(Buffer.from('abc'));
    recorder.end();
    await decided;
    expect(skips).toEqual(['incomplete']);
    expect(recorder.skipped).toBe('incomplete');
    expect(mw.stats().stores).toBe(0);
  });

  it('does not store a body longer than its Content-Length', async () => {
    const { recorder, skips, mw, decided } = await miss();
    recorder.head(200, ['content-length', '2']);
    recorder.chunk(Buffer.from('abcd'));
    recorder.end();
    await decided;
    expect(skips).toEqual(['incomplete']);
    expect(mw.stats().stores).toBe(0);
  });

  it('stores a body that matches its Content-Length (the check is not a blanket refusal)', async () => {
    const { recorder, skips, mw, decided } = await miss();
    recorder.head(200, ['content-length', '3']);
    recorder.chunk(Buffer.from('abc'));
    recorder.end();
    await decided;
    expect(skips).toEqual([]);
    expect(recorder.skipped).toBeUndefined();
    expect(mw.stats().stores).toBe(1);
  });

  it('names an aborted response once, however often it is aborted', async () => {
    const { recorder, skips } = await miss();
    recorder.head(200, []);
    recorder.chunk(Buffer.from('ab'));
    recorder.abort();
    recorder.abort();
    recorder.end();
    expect(skips).toEqual(['aborted']);
  });

  it('keeps the first reason: a too-large body that is then aborted is reported once', async () => {
    const { recorder, skips } = await miss();
    recorder.head(200, []);
    recorder.chunk(Buffer.from('0123456789'));
    recorder.abort();
    expect(skips).toEqual(['too-large']);
  });

  it('an abort after the response was stored says nothing', async () => {
    const { recorder, skips } = await miss();
    recorder.head(200, []);
    recorder.chunk(Buffer.from('ab'));
    recorder.end();
    recorder.abort();
    expect(skips).toEqual([]);
  });
});
