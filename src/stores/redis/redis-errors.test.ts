import { ReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { describe, expect, it } from 'vitest';
import { toCacheError } from './redis-errors.js';

/** A server reply as ioredis hands it over, with the command that drew it. */
function reply(message: string, command?: string, args: string[] = []): Error {
  const err = new ReplyError(message) as Error & { command?: unknown };
  if (command !== undefined) err.command = { name: command, args };
  return err;
}

describe('toCacheError', () => {
  // Regression: a refused SELECT reached queued commands as BACKEND, as if the command were at fault.
  it('reports a refused connection step as CONNECTION, naming the step and keeping the reply', () => {
    const refused = reply('ERR DB index is out of range', 'select', ['99']);
    const err = toCacheError(refused, 'set');
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toBe(
      'redis set failed: the server refused SELECT while connecting: ERR DB index is out of range',
    );
    expect(err.cause).toBe(refused);
  });

  it('reports refused credentials as CONNECTION without echoing the command arguments', () => {
    const err = toCacheError(
      reply('WRONGPASS invalid username-password pair', 'auth', ['hunter2']),
      'get',
    );
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toMatch(/refused AUTH while connecting: WRONGPASS/);
    expect(err.message).not.toContain('hunter2');
    // NOAUTH answers an ordinary command on a server that wants a password we never sent.
    expect(toCacheError(reply('NOAUTH Authentication required.', 'set'), 'set')).toMatchObject({
      code: 'CONNECTION',
      message: expect.stringMatching(/refused the credentials while connecting: NOAUTH/),
    });
  });

  it('keeps other replies as BACKEND', () => {
    expect(toCacheError(reply('WRONGTYPE Operation against a key', 'get'), 'get').code).toBe(
      'BACKEND',
    );
  });

  // Regression: errors told users to "refer to the maxRetriesPerRequest option", which they cannot set.
  it('rewords the client\'s "max retries per request" error in terms a user can act on', () => {
    const original = new MaxRetriesPerRequestError(0);
    const err = toCacheError(original, 'get');
    expect(err.code).toBe('CONNECTION');
    expect(err.message).not.toMatch(/maxRetriesPerRequest|max retries/i);
    expect(err.message).toMatch(/connection closed before the command was answered/);
    expect(err.cause).toBe(original);
  });
});
