import { describe, expect, it } from 'vitest';
import { decodeJSON, decodeJSONText, encodeJSON } from './json.js';

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

describe('decodeJSONText (bytes held as a one-byte string)', () => {
  const held = (value: unknown): string =>
    Buffer.from(JSON.stringify(value), 'utf8').toString('latin1');

  it('parses ASCII as it is and decodes anything else from UTF-8 first', () => {
    for (const value of [
      { ascii: 'plain', n: 1 },
      { accents: 'café crème', cjk: '日本語', astral: '𝄞 🎉' },
      ['\u0080', '\u00ff', '\u0100', '\uffff'],
      'a string with a \u00e9 at the end é',
    ]) {
      expect(decodeJSONText(held(value), 'k')).toEqual(value);
    }
  });

  it('rejects corrupt bytes with SERIALIZATION naming the key', () => {
    expect(() => decodeJSONText('{', 'k')).toThrow(
      expect.objectContaining({ code: 'SERIALIZATION' }),
    );
    expect(() => decodeJSONText('{', 'the-key')).toThrow(/"the-key"/);
  });
});
