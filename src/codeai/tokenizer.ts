/**
 * The `.cai` tokenizer. It knows just enough of the language to never lose its place:
 * strings (with escapes, possibly spanning lines, as the reference lexer allows), `//` and
 * `/* *\/` comments, numbers with an optional unit (`5m`, `30s`), identifiers, unquoted
 * paths (`/users/{id}`) and single-character punctuation. Any other character becomes a
 * one-character `punct` token rather than an error: the parser skips whatever it does not
 * use (`do` blocks hold operators we never read), and only braces decide structure.
 *
 * Why the path token: documentation-style endpoints write `endpoint GET /users/{id} {`. A
 * `{name}` right after a path segment is part of the path; the brace that opens the block
 * is preceded by whitespace. Braces taken into a path always come in a closed `{ident}`
 * pair, so a path token can never unbalance brace matching.
 */
import type { Diagnostic } from './diagnostics.js';

/** What a token is. */
export type TokenKind = 'ident' | 'string' | 'number' | 'path' | 'punct';

/** One token, with its 1-based position. */
export interface Token {
  kind: TokenKind;
  /** Source text, except for strings: their decoded value. */
  value: string;
  line: number;
  column: number;
  /** True when this token is the first one on its line. */
  lineStart: boolean;
}

/** Tokens plus the lexical errors (unterminated strings and comments). */
export interface TokenizeResult {
  tokens: Token[];
  errors: Diagnostic[];
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  '0': '\0',
};

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/** Splits a spec into tokens; never throws. */
export function tokenize(source: string): TokenizeResult {
  const tokens: Token[] = [];
  const errors: Diagnostic[] = [];
  const n = source.length;
  let i = 0;
  let line = 1;
  let lineOffset = 0; // offset of the first character of the current line
  let lastTokenLine = 0;

  const push = (kind: TokenKind, value: string, sLine: number, sCol: number) => {
    tokens.push({ kind, value, line: sLine, column: sCol, lineStart: sLine !== lastTokenLine });
    lastTokenLine = line;
  };

  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineOffset = i;
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    const sLine = line;
    const sCol = i - lineOffset + 1;
    const next = i + 1 < n ? source.charCodeAt(i + 1) : -1;

    if (c === 47 && next === 47) {
      // `//` comment: to the end of the line.
      while (i < n && source.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 47 && next === 42) {
      // `/* */` comment: does not nest, like the reference lexer.
      i += 2;
      let closed = false;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (d === 42 && source.charCodeAt(i + 1) === 47) {
          i += 2;
          closed = true;
          break;
        }
        if (d === 10) {
          line++;
          lineOffset = i + 1;
        }
        i++;
      }
      if (!closed) {
        errors.push({
          severity: 'error',
          code: 'SYNTAX',
          message: 'unterminated comment: "/*" has no closing "*/"',
          line: sLine,
          column: sCol,
        });
      }
      continue;
    }
    if (c === 34) {
      // A string: `"…"` with backslash escapes; a newline inside is kept.
      i++;
      let value = '';
      let closed = false;
      let chunkStart = i;
      while (i < n) {
        const d = source.charCodeAt(i);
        if (d === 34) {
          value += source.slice(chunkStart, i);
          i++;
          closed = true;
          break;
        }
        if (d === 92) {
          value += source.slice(chunkStart, i);
          const e = source[i + 1];
          if (e === undefined) {
            i++;
            chunkStart = i;
            break;
          }
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
            value += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            // Unknown escapes keep the escaped character, as the reference lexer does.
            value += SIMPLE_ESCAPES[e] ?? e;
            if (e === '\n') {
              line++;
              lineOffset = i + 2;
            }
            i += 2;
          }
          chunkStart = i;
          continue;
        }
        if (d === 10) {
          line++;
          lineOffset = i + 1;
        }
        i++;
      }
      if (!closed) {
        errors.push({
          severity: 'error',
          code: 'SYNTAX',
          message: 'unterminated string: the opening quote has no closing quote',
          line: sLine,
          column: sCol,
        });
        continue;
      }
      push('string', value, sLine, sCol);
      continue;
    }
    if (isDigit(c)) {
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (source.charCodeAt(i) === 46 && isDigit(source.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      // A unit glued to the number (`5m`, `250ms`) belongs to it.
      while (i < n && isIdentStart(source.charCodeAt(i))) i++;
      push('number', source.slice(start, i), sLine, sCol);
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      push('ident', source.slice(start, i), sLine, sCol);
      continue;
    }
    if (c === 47) {
      i = scanPath(source, i);
      push('path', source.slice(start, i), sLine, sCol);
      continue;
    }
    // Anything else is one character of punctuation; a surrogate pair stays whole.
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
    push('punct', source.slice(start, i), sLine, sCol);
  }
  return { tokens, errors };
}

/** The end of an unquoted path starting at `i` (a `/`). */
function scanPath(source: string, i: number): number {
  const n = source.length;
  i++;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (isSpace(c) || c === 125 /* } */ || c === 34 || c === 44 || c === 41 || c === 93) break;
    if (c === 47 && (source.charCodeAt(i + 1) === 47 || source.charCodeAt(i + 1) === 42)) break;
    if (c === 123 /* { */) {
      // `{name}` directly inside a path is a parameter, not a block.
      let j = i + 1;
      while (j < n && isIdentPart(source.charCodeAt(j))) j++;
      if (j > i + 1 && source.charCodeAt(j) === 125) {
        i = j + 1;
        continue;
      }
      break;
    }
    i++;
  }
  return i;
}
