import { describe, expect, it } from 'vitest';
import { decodeJSON, encodeJSON } from './json.js';

describe('encodeJSON', () => {
  it('encodes what JSON keeps faithfully, Dates as ISO strings', () => {
    expect(encodeJSON({ a: [1, 'x', null, true], d: new Date(0) })).toBe(
      '{"a":[1,"x",null,true],"d":"1970-01-01T00:00:00.000Z"}',
    );
    expect(encodeJSON({ dropped: undefined, kept: 1 })).toBe('{"kept":1}');
  });

  it('names the path of the first unfaithful value', () => {
    expect(() => encodeJSON({ deep: { price: Number.NaN } })).toThrow(/"price" is the number NaN/);
    expect(() => encodeJSON([1, undefined])).toThrow(/undefined in an array/);
  });
});

describe('decodeJSON', () => {
  it('rejects corrupt bytes with SERIALIZATION naming the key', () => {
    expect(() => decodeJSON(Buffer.from('{'), 'k')).toThrow(
      expect.objectContaining({ code: 'SERIALIZATION', message: expect.stringContaining('"k"') }),
    );
  });
});
