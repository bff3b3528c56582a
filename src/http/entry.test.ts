import { describe, expect, it } from 'vitest';
import { decode, encodeResponse, encodeVaryMarker, type StoredResponse } from './entry.js';

const info = {
  responseTime: 1_700_000_000_123,
  initialAgeMs: 1500,
  lifetimeMs: 60_000,
  swrMs: 5000,
  sieMs: 0,
  noCache: true,
  mustRevalidate: false,
  immutable: true,
};

describe('entry encoding', () => {
  it('round-trips status, headers, binary body and freshness', () => {
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const response: Omit<StoredResponse, 'repeatedNames'> = {
      status: 203,
      headers: [
        'content-type',
        'application/octet-stream',
        'link',
        '<a>',
        'link',
        '<b>',
        'x-l',
        'é',
      ],
      body,
      info,
    };
    const out = decode(encodeResponse(response));
    expect(out?.kind).toBe('response');
    if (out?.kind !== 'response') return;
    expect(out.response.status).toBe(203);
    expect(out.response.headers).toEqual(response.headers);
    expect(Buffer.compare(out.response.body, body)).toBe(0);
    expect(out.response.info).toEqual(info);
    expect(out.response.repeatedNames).toBe(true);
  });

  it('round-trips the must-revalidate flag', () => {
    const strict = { ...info, noCache: false, mustRevalidate: true, immutable: false };
    const out = decode(
      encodeResponse({ status: 200, headers: [], body: Buffer.alloc(0), info: strict }),
    );
    expect(out?.kind === 'response' && out.response.info).toEqual(strict);
  });

  it('round-trips an empty body and no headers', () => {
    const out = decode(encodeResponse({ status: 204, headers: [], body: Buffer.alloc(0), info }));
    expect(out?.kind === 'response' && out.response.body.length).toBe(0);
    expect(out?.kind === 'response' && out.response.headers).toEqual([]);
  });

  it('round-trips vary markers', () => {
    expect(decode(encodeVaryMarker(['accept-encoding', 'accept-language']))).toEqual({
      kind: 'vary',
      fields: ['accept-encoding', 'accept-language'],
    });
  });

  it('reads foreign or truncated values as a miss', () => {
    expect(decode(undefined)).toBeUndefined();
    expect(
      decode(Buffer.from('hello world, this is not an entry at all, no sir, not one bit')),
    ).toBeUndefined();
    const good = encodeResponse({ status: 200, headers: ['a', 'b'], body: Buffer.from('x'), info });
    expect(decode(good.subarray(0, 53))).toBeUndefined();
  });
});
