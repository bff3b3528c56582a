import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { HttpEvents, httpChannelName } from './events.js';

describe('HttpEvents', () => {
  it('delivers to listeners and to diagnostics_channel subscribers', () => {
    const events = new HttpEvents();
    const seen: unknown[] = [];
    const listener = (p: unknown) => seen.push(['listener', p]);
    const subscriber = (p: unknown) => seen.push(['channel', p]);
    expect(events.has('invalidate')).toBe(false);
    events.on('invalidate', listener);
    diagnostics.subscribe(httpChannelName('invalidate'), subscriber);
    try {
      events.emit('invalidate', { tags: ['a'] });
    } finally {
      diagnostics.unsubscribe(httpChannelName('invalidate'), subscriber);
    }
    events.off('invalidate', listener);
    events.emit('invalidate', { tags: ['b'] });
    expect(seen).toEqual([
      ['channel', { tags: ['a'] }],
      ['listener', { tags: ['a'] }],
    ]);
  });

  it('reports a throwing listener as a warning instead of failing the request', () => {
    const events = new HttpEvents();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    events.on('skip', () => {
      throw new Error('boom');
    });
    expect(() => events.emit('skip', { key: 'k', reason: 'status' })).not.toThrow();
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        process.off('warning', onWarning);
        expect(warnings.some((m) => m.includes('boom'))).toBe(true);
        resolve();
      });
    });
  });
});
