/**
 * The hostile inputs the property tests draw from: keys, byte values, TTLs and globs that
 * stress encodings, metacharacters and the library's own key spaces.
 */
import fc from 'fast-check';

/** True when `s` has no lone UTF-16 surrogate (`String.prototype.isWellFormed`, ES2024). */
export function wellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** Glob metacharacters and the characters Redis treats specially inside a class. */
export const META = ['*', '?', '[', ']', '\\', '^', '-'] as const;

/** Keys that look like the cache's prefix, its bookkeeping or a tag key, or are otherwise awkward. */
export const AWKWARD_KEYS = [
  ' ',
  ':',
  '::',
  '\0',
  '\r\n',
  '\n',
  '\t',
  '\x7f',
  '\xff',
  '\u00ff{#:}tag:t',
  '\u00ff{lock:k}',
  '\ufffd',
  '{#}clock',
  '{lock:x}',
  'tag:t',
  '*',
  '?',
  '[',
  ']',
  '\\',
  '[a-z]',
  '[^a]',
  '\\*',
  'a\\',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  '😀',
  '\ud83d', // a lone high surrogate
  '\ude00', // a lone low surrogate
  'a\ud800b',
  '\u0000\u0001\u0002',
  'x'.repeat(300),
] as const;

/** A short string over a small alphabet of troublemakers, so collisions are likely. */
const troubleChar = fc.constantFrom(
  'a',
  'b',
  ':',
  '*',
  '?',
  '[',
  ']',
  '\\',
  '^',
  '-',
  '\0',
  '\r',
  '\n',
  ' ',
  'é',
  '😀',
  '\ud800',
  '\udc00',
  '\ufffd',
  '\u00ff',
);

/** Any key: awkward constants, troublemaker strings, and arbitrary code points (lone surrogates included). */
export const keyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...AWKWARD_KEYS),
  fc.string({ unit: troubleChar, minLength: 0, maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) }),
);

/** A key every backend should accept: non-empty well-formed text. */
export const goodKeyArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'a:b', 'x*', '[a]', 'a\\', '\0', '😀', 'é', '\r\n'),
  fc.string({ unit: troubleChar, minLength: 1, maxLength: 4 }).filter(wellFormed),
);

/** Byte values: every byte value, the envelope's magic, empty. */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.constant(new Uint8Array(0)),
  fc.constant(Uint8Array.from({ length: 256 }, (_, i) => i)),
  // The envelope magic, with and without a plausible header after it.
  fc
    .uint8Array({ maxLength: 40 })
    .map((tail) => Uint8Array.from([0x00, 0xc7, 0xca, 0xe1, ...tail])),
  fc
    .uint8Array({ maxLength: 24 })
    .map((tail) =>
      Uint8Array.from([0x00, 0xc7, 0xca, 0xe1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...tail]),
    ),
);

/** String values: arbitrary code points (lone surrogates included), control characters. */
export const stringValueArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: troubleChar, maxLength: 20 }),
  fc.constantFrom('', '\0', '\ud800', 'a\udc00b', '\u00c7\u00ca'),
);

/** TTLs of every shape a caller could pass. */
export const ttlArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    undefined,
    0,
    -0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    0.5,
    1.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 + 5,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    '',
    ' ',
    '0',
    '0s',
    '1.5s',
    '.5s',
    '5m',
    '24h',
    '7d',
    '30 s',
    '5m ',
    '-5s',
    '1e3',
    '0x10',
    '5.s',
    '5 minutes',
    'NaN',
    'Infinity',
    '1000000000000d',
    '9'.repeat(400),
    null,
    true,
    {},
    [],
    10n,
  ),
  fc.double(),
  fc.integer(),
  fc
    .tuple(
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', 'MS', 'D', 'x', ' s'),
    )
    .map(([n, u]) => `${n}${u}`),
);

/** Glob patterns over a small alphabet, so they match the small keys often. */
export const globArb: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom('a', 'b', ':', '*', '?', '[', ']', '\\', '^', '-', 'é', '\0'),
  maxLength: 6,
});
