import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from './redis-url.js';

/** The INVALID_CONFIG error a URL draws. */
function errorOf(url: string): { code?: string; message: string } {
  try {
    parseRedisUrl(url);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error(`${url} parsed`);
}

describe('parseRedisUrl on malformed URLs', () => {
  // Regression: "redis:/127.0.0.1" was reported as a bad database number ("127.0.0.1").
  it('says a URL missing the "//" is malformed, not that its database is', () => {
    for (const url of ['redis:/127.0.0.1', 'redis:127.0.0.1:6379', 'rediss:/h:6380/1']) {
      const err = errorOf(url);
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.message).toMatch(/must be followed by "\/\/" and the host/);
      expect(err.message).toContain('redis://[user:password@]host[:port][/db]');
      expect(err.message).not.toMatch(/database/);
    }
  });

  it('names the form when the URL does not parse, without echoing the password', () => {
    const err = errorOf('redis://:hunter2@h:notaport');
    expect(err).toMatchObject({ code: 'INVALID_CONFIG' });
    expect(err.message).toMatch(/not a valid Redis URL \(redis:\/\/\[user:password@\]host/);
    expect(err.message).not.toContain('hunter2');
    expect(errorOf('redis:/u:hunter2@h').message).not.toContain('hunter2');
  });

  it('rejects a path longer than the database, a "#" part and port 0', () => {
    expect(errorOf('redis://h:6379/0/1').message).toMatch(/only the database number.*"\/0\/1"/);
    expect(errorOf('redis://h#prefix=a').message).toMatch(/"#" part/);
    expect(errorOf('redis://h:0').message).toMatch(/port .* must be 1 to 65535/);
  });

  it('still accepts the well-formed variants', () => {
    expect(parseRedisUrl('redis://h:6379/').db).toBe(0);
    expect(parseRedisUrl('REDIS://h/2')).toMatchObject({ host: 'h', db: 2 });
    expect(parseRedisUrl('redis:///1')).toMatchObject({ host: '127.0.0.1', db: 1 });
  });
});
