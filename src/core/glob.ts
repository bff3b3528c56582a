/**
 * Redis-compatible glob matching.
 *
 * Redis matches `KEYS` / `SCAN MATCH` patterns byte by byte (`stringmatchlen` in its util.c).
 * We compile a pattern once into tokens whose parse mirrors Redis's, then match the UTF-8
 * bytes of a key against them with the classic one-backtrack-point wildcard algorithm, which
 * gives the same answers as Redis's recursive matcher because every non-star token consumes
 * exactly one byte. Quirks kept on purpose so the memory backend agrees with Redis:
 * - `?` and classes match one *byte*, not one character;
 * - `[^…]` negates (there is no `!` form); `[a-z]` with reversed bounds is swapped;
 * - inside a class `\x` is the literal `x`; an unterminated `[` extends to the pattern's end;
 * - a trailing lone `\` is a literal backslash;
 * - range bounds compare as C `char`, which is signed on the platforms Redis runs on.
 */

type Token =
  | { readonly t: 'star' }
  | { readonly t: 'any' }
  | { readonly t: 'lit'; readonly b: number }
  | {
      readonly t: 'class';
      readonly not: boolean;
      readonly bytes: readonly number[];
      readonly ranges: readonly (readonly [number, number])[];
    };

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

const signedChar = (b: number): number => (b >= 128 ? b - 256 : b);

function compile(pattern: Uint8Array): Token[] {
  const tokens: Token[] = [];
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const c = pattern[i]!;
    if (c === STAR) {
      if (tokens.at(-1)?.t !== 'star') tokens.push({ t: 'star' });
      i++;
    } else if (c === QUESTION) {
      tokens.push({ t: 'any' });
      i++;
    } else if (c === OPEN) {
      i++;
      const not = pattern[i] === CARET;
      if (not) i++;
      const bytes: number[] = [];
      const ranges: [number, number][] = [];
      while (i < n) {
        const p = pattern[i]!;
        if (p === BACKSLASH && n - i >= 2) {
          bytes.push(pattern[i + 1]!);
          i += 2;
        } else if (p === CLOSE) {
          i++;
          break;
        } else if (n - i >= 3 && pattern[i + 1] === DASH) {
          let start = signedChar(p);
          let end = signedChar(pattern[i + 2]!);
          if (start > end) [start, end] = [end, start];
          ranges.push([start, end]);
          i += 3;
        } else {
          bytes.push(p);
          i++;
        }
      }
      tokens.push({ t: 'class', not, bytes, ranges });
    } else if (c === BACKSLASH && n - i >= 2) {
      tokens.push({ t: 'lit', b: pattern[i + 1]! });
      i += 2;
    } else {
      tokens.push({ t: 'lit', b: c });
      i++;
    }
  }
  return tokens;
}

function matchOne(token: Token, b: number): boolean {
  switch (token.t) {
    case 'any':
      return true;
    case 'lit':
      return token.b === b;
    case 'class': {
      let hit = token.bytes.includes(b);
      if (!hit) {
        const s = signedChar(b);
        hit = token.ranges.some(([lo, hi]) => s >= lo && s <= hi);
      }
      return token.not ? !hit : hit;
    }
    default:
      return false;
  }
}

function matchTokens(tokens: readonly Token[], s: Uint8Array): boolean {
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  while (si < s.length) {
    const token = tokens[ti];
    if (token !== undefined && token.t === 'star') {
      starTi = ti++;
      starSi = si;
    } else if (token !== undefined && matchOne(token, s[si]!)) {
      ti++;
      si++;
    } else if (starTi >= 0) {
      ti = starTi + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (tokens[ti]?.t === 'star') ti++;
  return ti === tokens.length;
}

const encoder = new TextEncoder();

/** A compiled Redis glob: `test(key)` answers as Redis's `MATCH` would. */
export interface GlobMatcher {
  readonly pattern: string;
  test(key: string): boolean;
}

/** Compiles a Redis glob pattern (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\` escapes). */
export function compileGlob(pattern: string): GlobMatcher {
  const tokens = compile(encoder.encode(pattern));
  if (tokens.length === 1 && tokens[0]!.t === 'star') {
    return { pattern, test: () => true };
  }
  return { pattern, test: (key: string) => matchTokens(tokens, encoder.encode(key)) };
}

/** Escapes glob metacharacters so `s` matches itself literally in a Redis pattern. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
