import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration } from './duration.js';

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
