import { describe, expect, it } from 'vitest';
import { normaliseVaryValue } from './vary-normalise.js';

describe('normaliseVaryValue (RFC 9111 §4.1)', () => {
  it.each([
    // Accept-Encoding: codings are case-insensitive and their order carries no meaning.
    ['accept-encoding', 'gzip, br', 'br, GZIP'],
    ['accept-encoding', 'gzip,deflate', ' deflate ;q=0.5 ,gzip'],
    ['accept-encoding', 'gzip', 'gzip, br;q=0'],
    // Accept-Language: tags are case-insensitive, OWS and q=1 are noise, empty members too.
    ['accept-language', 'en-US,fr;q=0.5', 'en-us , FR ; q=0.50'],
    ['accept-language', 'en', 'en;q=1.0,'],
    // Accept: type, subtype and parameter names are case-insensitive.
    ['accept', 'text/html,application/json;q=0.9', 'Text/HTML , application/JSON;Q=0.90'],
    // Anything else: leading and trailing whitespace only.
    ['x-theme', 'dark', '  dark '],
  ])('%s: %j and %j are one entry', (name, a, b) => {
    expect(normaliseVaryValue(name, a)).toBe(normaliseVaryValue(name, b));
  });

  it.each([
    ['accept-language', 'en,fr', 'fr,en'],
    ['accept-language', 'en;q=0.5', 'en;q=0.6'],
    ['accept', 'text/html;level=1', 'text/html;level=2'],
    ['accept', 'text/html,application/json', 'application/json,text/html'],
    ['accept-encoding', 'gzip', 'br'],
    ['x-theme', 'dark', 'Dark'],
  ])('%s: %j and %j stay apart', (name, a, b) => {
    expect(normaliseVaryValue(name, a)).not.toBe(normaliseVaryValue(name, b));
  });
});
