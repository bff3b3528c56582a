import { describe, expect, it } from 'vitest';
import { DEFAULT_TARGETED_FIELDS, isSfDictionary, targetedDirectives } from './targeted.js';

describe('targetedDirectives (RFC 9213 §2.1, §2.2)', () => {
  const fields = ['codeai-cache-control', 'cdn-cache-control'];
  it.each([
    [
      'the first listed field present',
      ['cdn-cache-control', 'max-age=5', 'codeai-cache-control', 'max-age=9'],
      { 'max-age': '9' },
    ],
    [
      'the next field when the first is absent',
      ['cdn-cache-control', 'no-store'],
      { 'no-store': true },
    ],
    [
      'the next field when the first is invalid',
      ['codeai-cache-control', 'Max-Age=9', 'cdn-cache-control', 'private'],
      { private: true },
    ],
    [
      'the next field when the first is empty',
      ['codeai-cache-control', '', 'cdn-cache-control', 'no-cache'],
      { 'no-cache': true },
    ],
    ['nothing when no field is listed', ['cache-control', 'max-age=5'], undefined],
    ['nothing when every field is invalid', ['cdn-cache-control', 'max-age=5,,'], undefined],
  ] as const)('uses %s', (_what, headers, expected) => {
    const out = targetedDirectives([...headers], fields);
    expect(out === undefined ? undefined : { ...out }).toEqual(expected);
  });

  it('obeys CDN-Cache-Control by default', () => {
    expect(DEFAULT_TARGETED_FIELDS).toEqual(['cdn-cache-control']);
  });
});

describe('isSfDictionary (RFC 8941 §3.2)', () => {
  it.each([
    ['max-age=60', true],
    ['max-age=60, stale-while-revalidate=30', true],
    ['no-store', true],
    ['private="set-cookie"', true],
    ['none', true],
    ['a=?1;p=2', true],
    ['', false],
    ['Max-Age=60', false],
    ['max-age=60,', false],
    ['max-age=', false],
    ['max-age="60', false],
    ['max-age=(a b)', false],
    ['max age=1', false],
  ])('%s → %s', (value, valid) => {
    expect(isSfDictionary(value)).toBe(valid);
  });
});
