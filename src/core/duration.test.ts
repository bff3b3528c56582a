import { describe, expect, it } from 'vitest';
import { type Duration, parseBytes, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1.5s', 1500],
    ['100', 100],
    [' 2 M ', 120_000],
  ] as const)('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '', 'soon', '-5s', '5w', '1e3s', '5 m s'])(
    'rejects %j with INVALID_TTL naming the option',
    (input) => {
      expect(() => parseDuration(input, 'grace')).toThrow(
        expect.objectContaining({ code: 'INVALID_TTL', message: expect.stringContaining('grace') }),
      );
    },
  );
});

describe('parseDuration on a hot path (strings are remembered)', () => {
  it('answers a remembered string as the first time, and rejects a bad one every time', () => {
    for (let round = 0; round < 3; round++) {
      expect(parseDuration('1h')).toBe(3_600_000);
      expect(parseDuration('1.5s')).toBe(1500);
      expect(() => parseDuration('soon', 'ttl')).toThrow(
        expect.objectContaining({ code: 'INVALID_TTL', message: expect.stringContaining('ttl') }),
      );
    }
  });

  it('stays right past the number of strings it remembers', () => {
    for (let i = 0; i < 1000; i++) expect(parseDuration(`${i}s`)).toBe(i * 1000);
    for (let i = 0; i < 1000; i++) expect(parseDuration(`${i}ms`)).toBe(i);
  });
});

describe('the Duration type agrees with parseDuration', () => {
  // Each of these compiles as a Duration (the array's type checks it) and parses.
  const compiles: Duration[] = ['5m', '250ms', '1.5s', '.5s', '7d', '24H', '2Ms', '100', ' 3 s', 0];
  it.each(compiles)('%j compiles and parses', (input) => {
    expect(parseDuration(input)).toBeGreaterThanOrEqual(0);
  });

  it('refuses at compile time what parseDuration refuses at run time', () => {
    const refused: unknown[] = [];
    // @ts-expect-error a word for the unit
    refused.push(['5 minutes'] satisfies Duration[]);
    // @ts-expect-error an unknown unit
    refused.push(['5w'] satisfies Duration[]);
    // @ts-expect-error no number
    refused.push(['soon'] satisfies Duration[]);
    // @ts-expect-error empty
    refused.push([''] satisfies Duration[]);
    // @ts-expect-error two units
    refused.push(['5 m s'] satisfies Duration[]);
    for (const [input] of refused as string[][]) {
      expect(() => parseDuration(input as string)).toThrow(
        expect.objectContaining({ code: 'INVALID_TTL' }),
      );
    }
    expect(refused).toHaveLength(5);
  });

  // What a template literal cannot exclude: TypeScript's `${number}` admits a sign, an
  // exponent, hex and a trailing dot. These compile and are rejected at run time.
  const looser: Duration[] = ['-5s', '1e3s', '0x10', '5.s'];
  it.each(looser)('%j compiles but is rejected at run time (documented)', (input) => {
    expect(() => parseDuration(input)).toThrow(expect.objectContaining({ code: 'INVALID_TTL' }));
  });
});

describe('parseBytes', () => {
  it.each([
    [1024, 1024],
    ['64mb', 64 * 1024 ** 2],
    ['512kb', 512 * 1024],
    ['1g', 1024 ** 3],
    ['100b', 100],
  ] as const)('reads %j as %d bytes', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each([0, -5, 'lots', '', Number.NaN])('rejects %j with INVALID_CONFIG', (input) => {
    expect(() => parseBytes(input, 'maxMemory')).toThrow(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining('maxMemory'),
      }),
    );
  });
});
