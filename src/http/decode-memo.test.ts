import { describe, expect, it } from 'vitest';
import { DecodeMemo } from './decode-memo.js';
import { encodeResponse } from './entry.js';

const info = {
  responseTime: 1,
  initialAgeMs: 0,
  lifetimeMs: 1000,
  swrMs: 0,
  sieMs: 0,
  noCache: false,
};
const entry = (body: string) =>
  encodeResponse({ status: 200, headers: ['a', 'b'], body: Buffer.from(body), info });

describe('DecodeMemo', () => {
  it('reuses a decode while the cache returns identical bytes', () => {
    const memo = new DecodeMemo();
    const first = memo.decode('k', entry('one'));
    expect(memo.decode('k', entry('one'))).toBe(first);
  });

  it('decodes again as soon as the bytes differ', () => {
    const memo = new DecodeMemo();
    memo.decode('k', entry('one'));
    const second = memo.decode('k', entry('two'));
    expect(second?.kind === 'response' && second.response.body.toString()).toBe('two');
  });

  it('never answers for a miss', () => {
    const memo = new DecodeMemo();
    memo.decode('k', entry('one'));
    expect(memo.decode('k', undefined)).toBeUndefined();
  });

  it('does not keep large entries', () => {
    const memo = new DecodeMemo();
    const big = entry('x'.repeat(20_000));
    expect(memo.decode('k', big)).not.toBe(memo.decode('k', big));
  });
});
