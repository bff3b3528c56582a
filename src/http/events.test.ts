import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { HttpEvents, httpChannelName } from './events.js';

describe('HttpEvents', () => {
  it('delivers to listeners and to diagnostics_channel subscribers', () => {
    const events = new HttpEvents();
    const seen: unknown[] = [];
    const listener = (p: unknown) => seen.push(['listener', p]);
    const subscriber = (p: unknown) => seen.push(['channel', p]);
    expect(events.wants('invalidate')).toBe(false);
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
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      events.on('skip', () => {
        throw new Error('boom');
      });
      expect(() => events.emit('skip', { key: 'k', reason: 'status' })).not.toThrow();
      expect(String(warn.mock.calls[0]?.[0])).toContain('boom');
    } finally {
      warn.mockRestore();
    }
  });
});
