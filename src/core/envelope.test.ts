import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope, hasEnvelope } from './envelope.js';

describe('envelope', () => {
  it('round-trips payload, logical expiry and tag versions', () => {
    const payload = Buffer.from('{"a":1}');
    const bytes = encodeEnvelope(payload, 1234.5, ['posts', 'tag:é'], [3, 0]);
    expect(hasEnvelope(bytes)).toBe(true);
    const env = decodeEnvelope(bytes);
    expect(env?.payload.equals(payload)).toBe(true);
    expect(env).toMatchObject({
      freshUntil: 1234.5,
      tags: ['posts', 'tag:é'],
      tagVersions: [3, 0],
    });
  });

  it('does not mistake plain values for envelopes', () => {
    expect(hasEnvelope(Buffer.from('hello world, a plain value'))).toBe(false);
    expect(hasEnvelope(Buffer.from([0x00, 0xc7, 0xca]))).toBe(false);
  });

  it('treats truncated envelopes as not an envelope', () => {
    const bytes = encodeEnvelope(Buffer.from('x'), 0, ['a-long-tag'], [1]);
    expect(decodeEnvelope(bytes.subarray(0, 20))).toBeUndefined();
  });
});
