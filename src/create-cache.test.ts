import { describe, expect, it } from 'vitest';
import { configFromUrl, createCache } from './create-cache.js';

function messageOf(url: string): string {
  try {
    configFromUrl(url);
  } catch (err) {
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    return (err as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

describe('configFromUrl', () => {
  // Regression: createCache('redis:/127.0.0.1') blamed the database number ("127.0.0.1").
  it('reports a malformed Redis URL by its form', () => {
    expect(messageOf('redis:/127.0.0.1')).toMatch(/"redis:" must be followed by "\/\/"/);
    expect(messageOf('REDIS:127.0.0.1:6379')).toMatch(/must be followed by "\/\/"/);
  });

  it('never echoes the password of a Redis URL that does not parse', () => {
    const message = messageOf('redis://:hunter2@h:notaport');
    expect(message).toMatch(/not a valid Redis URL/);
    expect(message).not.toContain('hunter2');
  });

  it('names the URL forms it knows when a URL does not parse at all', () => {
    expect(messageOf('redis//127.0.0.1')).toMatch(/memory:\/\/.*redis:\/\/.*rediss:\/\//);
  });

  it('takes a cache-wide jitter in every backend URL and config, checked the same way', async () => {
    expect(configFromUrl('memory://?jitter=0.1')).toEqual({ type: 'memory', jitter: 0.1 });
    expect(configFromUrl('tiered+redis://h?jitter=0.1&l1.ttl=5s')).toEqual({
      type: 'tiered',
      url: 'redis://h?jitter=0.1',
      l1: { ttl: '5s' },
    });
    const made = [
      createCache('memory://?jitter=0.1'),
      createCache('redis://127.0.0.1:1?jitter=0.1'),
      createCache('tiered+redis://127.0.0.1:1?jitter=0.1'),
      createCache({ type: 'memory', jitter: 0.2 }),
      createCache({ type: 'redis', port: 1, jitter: 0.2 }),
      createCache({ type: 'tiered', port: 1, jitter: 0.2 }),
    ];
    await Promise.all(made.map((c) => c.stop()));
    for (const bad of [
      'memory://?jitter=1',
      'redis://h?jitter=1',
      'redis://h?jitter=soon',
      'tiered+redis://h?jitter=-0.5',
    ]) {
      expect(() => createCache(bad), bad).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          message: expect.stringContaining('jitter'),
        }),
      );
    }
    for (const type of ['memory', 'redis', 'tiered'] as const) {
      expect(() => createCache({ type, jitter: 1 }), type).toThrow(
        expect.objectContaining({
          code: 'INVALID_CONFIG',
          message: expect.stringContaining('jitter'),
        }),
      );
    }
  });

  it('still reads well-formed URLs', () => {
    expect(configFromUrl('redis://h:6380/2?prefix=p')).toEqual({
      type: 'redis',
      url: 'redis://h:6380/2?prefix=p',
    });
    expect(configFromUrl('memory://?maxEntries=5')).toEqual({ type: 'memory', maxEntries: 5 });
  });
});
