import { describe, expect, it } from 'vitest';
import { tokenize } from './tokenizer.js';

const values = (src: string) => tokenize(src).tokens.map((t) => `${t.kind}:${t.value}`);

describe('tokenize', () => {
  it('decodes string escapes and keeps braces inside strings out of the structure', () => {
    const { tokens, errors } = tokenize('x: "a \\"{\\" b\\n\\u0041\\\\"');
    expect(errors).toEqual([]);
    expect(tokens.map((t) => t.kind)).toEqual(['ident', 'punct', 'string']);
    expect(tokens[2]!.value).toBe('a "{" b\nA\\');
  });

  it('drops // and /* */ comments, braces and quotes inside them included', () => {
    expect(values('a // } "\nb /* { " */ c')).toEqual(['ident:a', 'ident:b', 'ident:c']);
  });

  it('reads a number with its unit as one token', () => {
    expect(values('ttl: 5m 300 1.5h 250ms')).toEqual([
      'ident:ttl',
      'punct::',
      'number:5m',
      'number:300',
      'number:1.5h',
      'number:250ms',
    ]);
  });

  it('reads an unquoted path with {param} segments, leaving the block brace alone', () => {
    expect(values('endpoint GET /users/{id}/books {}')).toEqual([
      'ident:endpoint',
      'ident:GET',
      'path:/users/{id}/books',
      'punct:{',
      'punct:}',
    ]);
  });

  it('gives 1-based line and column, tabs counting as one column', () => {
    const { tokens } = tokenize('a\n\tb  "s"\n\n  c');
    expect(tokens.map((t) => [t.value, t.line, t.column, t.lineStart])).toEqual([
      ['a', 1, 1, true],
      ['b', 2, 2, true],
      ['s', 2, 5, false],
      ['c', 4, 3, true],
    ]);
  });

  it('counts lines inside multi-line strings and comments', () => {
    const { tokens } = tokenize('"a\nb" /*\n\n*/ x');
    expect(tokens[1]).toMatchObject({ value: 'x', line: 4, column: 4 });
  });

  it('reports an unterminated string at its opening quote', () => {
    const { errors } = tokenize('a: 1\nb: "oops\n}');
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'SYNTAX',
        line: 2,
        column: 4,
        message: expect.stringMatching(/unterminated string/),
      }),
    ]);
  });

  it('reports an unterminated comment at its opening', () => {
    const { errors } = tokenize('x /* never\nclosed');
    expect(errors).toEqual([
      expect.objectContaining({
        line: 1,
        column: 3,
        message: expect.stringMatching(/unterminated comment/),
      }),
    ]);
  });

  it('turns unknown characters into punctuation instead of failing', () => {
    expect(values('a >= b # é')).toEqual([
      'ident:a',
      'punct:>',
      'punct:=',
      'ident:b',
      'punct:#',
      'punct:é',
    ]);
  });
});
