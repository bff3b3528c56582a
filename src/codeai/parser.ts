/**
 * The `.cai` parser: reads the declarations the cache uses and skips every other one by
 * brace matching.
 *
 * Design: braces are matched once, over the token list, before anything is parsed. Every
 * declaration then owns an exact token range `[open, close]`, so an error inside one block
 * is reported and parsing resumes after that block: one broken endpoint cannot hide the
 * errors of the next, and nothing it contains can leak into its neighbours. Unknown
 * top-level statements (entities, databases, workflows, jobs, events, `on … do …` lines)
 * are skipped to the end of their block, or to the next line that starts a declaration
 * this parser knows.
 *
 * Both dialects are read. In strict mode the documentation-only forms CODEAI.md lists
 * (block-valued config keys, bare durations, unquoted endpoint paths, endpoint clauses
 * beyond `middleware` / `require_role` / `request` / `response` / `do`, integration
 * caching keys) are reported as `PLANNED_SYNTAX` where the cache reads them.
 */
import type { Diagnostic } from './diagnostics.js';
import type {
  Annotation,
  EndpointDecl,
  Entry,
  IntegrationDecl,
  MiddlewareDecl,
  OperationDecl,
  Pos,
  SpecSyntax,
  Value,
} from './syntax.js';
import { type Token, tokenize } from './tokenizer.js';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const TOP_KEYWORDS = new Set(['config', 'middleware', 'endpoint', 'integration']);
/** Clauses of an endpoint in the Go grammar, in their order. */
const GO_ENDPOINT_CLAUSES = new Set(['middleware', 'require_role', 'request', 'response', 'do']);

/** Parses `source` into the syntax the cache reads, collecting every diagnostic. */
export function parseSpec(
  source: string,
  strict: boolean,
): { syntax: SpecSyntax; diagnostics: Diagnostic[] } {
  const { tokens, errors } = tokenize(source);
  const parser = new Parser(tokens, strict);
  parser.diagnostics.push(...errors);
  parser.matchBraces();
  const syntax = parser.parseProgram();
  parser.diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { syntax, diagnostics: parser.diagnostics };
}

const posOf = (t: Token): Pos => ({ line: t.line, column: t.column });

/** The deepest a value may nest (blocks, lists, calls): far beyond any real spec. */
const MAX_NESTING = 200;

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  readonly #t: Token[];
  readonly #strict: boolean;
  /** For each `{` token, the index of its `}` (or the token count when unterminated). */
  #match: Int32Array;
  /** How deep #value is nested now; see {@link MAX_NESTING}. */
  #depth = 0;

  constructor(tokens: Token[], strict: boolean) {
    this.#t = tokens;
    this.#strict = strict;
    this.#match = new Int32Array(tokens.length);
  }

  matchBraces(): void {
    const stack: number[] = [];
    const t = this.#t;
    for (let i = 0; i < t.length; i++) {
      const tok = t[i]!;
      if (tok.kind !== 'punct') continue;
      if (tok.value === '{') stack.push(i);
      else if (tok.value === '}') {
        const open = stack.pop();
        if (open === undefined) {
          this.#error(tok, 'unexpected "}": no block is open here');
          this.#match[i] = -1;
        } else this.#match[open] = i;
      }
    }
    for (const open of stack) {
      this.#match[open] = t.length;
      this.#error(t[open]!, 'unterminated block: this "{" is never closed');
    }
  }

  parseProgram(): SpecSyntax {
    const syntax: SpecSyntax = { config: [], middlewares: [], endpoints: [], integrations: [] };
    const t = this.#t;
    let annotations: Annotation[] = [];
    let i = 0;
    while (i < t.length) {
      const tok = t[i]!;
      if (this.#isPunct(i, '@')) {
        const [annotation, next] = this.#annotation(i, t.length);
        if (annotation) annotations.push(annotation);
        i = next;
        continue;
      }
      if (tok.kind === 'ident' && tok.value === 'endpoint') {
        const [endpoint, next] = this.#endpoint(i, annotations);
        if (endpoint) syntax.endpoints.push(endpoint);
        annotations = [];
        i = next;
        continue;
      }
      annotations = [];
      if (tok.kind === 'ident' && tok.value === 'config' && this.#isPunct(i + 1, '{')) {
        const close = this.#match[i + 1]!;
        syntax.config.push(...this.#entries(i + 2, close, 'config'));
        i = close + 1;
      } else if (tok.kind === 'ident' && tok.value === 'middleware' && this.#isIdent(i + 1)) {
        const [mw, next] = this.#middleware(i);
        if (mw) syntax.middlewares.push(mw);
        i = next;
      } else if (
        tok.kind === 'ident' &&
        tok.value === 'integration' &&
        this.#isIdent(i + 1) &&
        this.#isPunct(i + 2, '{')
      ) {
        syntax.integrations.push(this.#integration(i));
        i = this.#match[i + 2]! + 1;
      } else if (this.#isPunct(i, '}')) {
        i++; // already reported by brace matching
      } else {
        i = this.#skipStatement(i);
      }
    }
    return syntax;
  }

  /** Skips an unknown statement: through its first block, or to the next declaration line. */
  #skipStatement(i: number): number {
    const t = this.#t;
    i++;
    for (; i < t.length; i++) {
      const tok = t[i]!;
      if (tok.lineStart && this.#startsDeclaration(i)) return i;
      if (tok.kind === 'punct' && tok.value === '{') return this.#match[i]! + 1;
      if (tok.kind === 'punct' && tok.value === '}') return i;
    }
    return i;
  }

  #startsDeclaration(i: number): boolean {
    const tok = this.#t[i]!;
    return (tok.kind === 'ident' && TOP_KEYWORDS.has(tok.value)) || this.#isPunct(i, '@');
  }

  #annotation(i: number, end: number): [Annotation | undefined, number] {
    const at = this.#t[i]!;
    if (!this.#isIdent(i + 1, end)) {
      this.#error(at, 'expected an annotation name after "@"');
      return [undefined, i + 1];
    }
    const name = this.#t[i + 1]!.value;
    let next = i + 2;
    let args: Value[] = [];
    if (this.#isPunct(next, '(') && next < end) {
      [args, next] = this.#arguments(next, end);
      if (this.#strict && args.some((a) => a.kind !== 'string')) {
        this.#planned(at, `@${name}(…) takes a quoted string in the Go parser`);
      }
    }
    return [{ name, args, pos: posOf(at) }, next];
  }

  #endpoint(i: number, annotations: Annotation[]): [EndpointDecl | undefined, number] {
    const t = this.#t;
    const kw = t[i]!;
    const methodTok = t[i + 1];
    if (methodTok?.kind !== 'ident' || !METHODS.has(methodTok.value.toUpperCase())) {
      this.#error(
        methodTok ?? kw,
        'expected an HTTP method (GET, POST, PUT, PATCH, DELETE) after "endpoint"',
      );
      return [undefined, this.#skipStatement(i)];
    }
    const pathTok = t[i + 2];
    if (!pathTok || (pathTok.kind !== 'string' && pathTok.kind !== 'path')) {
      this.#error(pathTok ?? methodTok, 'expected the endpoint path, such as "/users/:id"');
      return [undefined, this.#skipStatement(i + 1)];
    }
    if (!pathTok.value.startsWith('/')) {
      this.#error(
        pathTok,
        `the endpoint path must start with "/", got ${JSON.stringify(pathTok.value)}`,
      );
      return [undefined, this.#skipStatement(i + 2)];
    }
    if (pathTok.kind === 'path' && this.#strict) {
      this.#planned(pathTok, 'an unquoted endpoint path; the Go parser needs it quoted');
    }
    if (!this.#isPunct(i + 3, '{')) {
      this.#error(t[i + 3] ?? pathTok, 'expected "{" to open the endpoint body');
      return [undefined, this.#skipStatement(i + 2)];
    }
    const close = this.#match[i + 3]!;
    const endpoint: EndpointDecl = {
      method: methodTok.value.toUpperCase(),
      path: pathTok.value,
      pos: posOf(kw),
      pathPos: posOf(pathTok),
      annotations,
      middleware: [],
      cache: undefined,
      auth: undefined,
    };
    let j = i + 4;
    while (j < close) {
      const tok = t[j]!;
      if (tok.kind === 'ident' && tok.value === 'middleware' && this.#isIdent(j + 1, close)) {
        endpoint.middleware.push({ name: t[j + 1]!.value, pos: posOf(t[j + 1]!) });
        j += 2;
      } else if (this.#isPunct(j, '{')) {
        j = this.#match[j]! + 1;
      } else if (tok.kind === 'ident' && this.#isPunct(j + 1, ':') && j + 1 < close) {
        // A documentation clause: `cache: 5m`, `auth: required`, `description: "…"`.
        const [value, next] = this.#value(j + 2, close);
        const entry: Entry = { key: tok.value, pos: posOf(tok), value };
        if (tok.value === 'cache') endpoint.cache = entry;
        else if (tok.value === 'auth') endpoint.auth = entry;
        if (this.#strict)
          this.#planned(
            tok,
            `endpoint clause "${tok.value}:" is documentation syntax the Go parser rejects`,
          );
        j = next;
      } else {
        if (
          this.#strict &&
          tok.kind === 'ident' &&
          tok.lineStart &&
          !GO_ENDPOINT_CLAUSES.has(tok.value)
        ) {
          this.#planned(
            tok,
            `endpoint clause "${tok.value}" is documentation syntax the Go parser rejects`,
          );
        }
        j++;
      }
    }
    return [endpoint, close + 1];
  }

  #middleware(i: number): [MiddlewareDecl | undefined, number] {
    const t = this.#t;
    const nameTok = t[i + 1]!;
    const mw: MiddlewareDecl = {
      name: nameTok.value,
      pos: posOf(nameTok),
      type: undefined,
      typePos: undefined,
      config: [],
    };
    let open = i + 2;
    if (this.#isIdent(open) && this.#isPunct(open + 1, '{')) {
      // `middleware auth_required authentication { … }`: the type follows the name.
      mw.type = t[open]!.value;
      mw.typePos = posOf(t[open]!);
      open++;
    }
    if (!this.#isPunct(open, '{')) {
      this.#error(t[open] ?? nameTok, `expected "{" to open middleware "${mw.name}"`);
      return [undefined, this.#skipStatement(i + 1)];
    }
    const close = this.#match[open]!;
    let j = open + 1;
    while (j < close) {
      const tok = t[j]!;
      if (tok.kind === 'ident' && tok.value === 'type' && this.#isIdent(j + 1, close)) {
        mw.type = t[j + 1]!.value;
        mw.typePos = posOf(t[j + 1]!);
        j += 2;
      } else if (tok.kind === 'ident' && tok.value === 'config' && this.#isPunct(j + 1, '{')) {
        const end = this.#match[j + 1]!;
        mw.config.push(...this.#entries(j + 2, Math.min(end, close), 'middleware'));
        j = end + 1;
      } else if (tok.kind === 'ident' && this.#isPunct(j + 1, ':')) {
        const [value, next] = this.#value(j + 2, close);
        mw.config.push({ key: tok.value, pos: posOf(tok), value });
        this.#checkBareDuration(value);
        j = next;
      } else if (this.#isPunct(j, '{')) {
        j = this.#match[j]! + 1;
      } else {
        j++;
      }
    }
    return [mw, close + 1];
  }

  #integration(i: number): IntegrationDecl {
    const t = this.#t;
    const integration: IntegrationDecl = {
      name: t[i + 1]!.value,
      pos: posOf(t[i]!),
      entries: [],
      operations: [],
    };
    const close = this.#match[i + 2]!;
    let j = i + 3;
    while (j < close) {
      const tok = t[j]!;
      if (
        tok.kind === 'ident' &&
        tok.value === 'operation' &&
        this.#isIdent(j + 1, close) &&
        this.#isPunct(j + 2, '{')
      ) {
        const end = this.#match[j + 2]!;
        const op: OperationDecl = {
          name: t[j + 1]!.value,
          pos: posOf(tok),
          entries: this.#entries(j + 3, Math.min(end, close), 'integration'),
        };
        integration.operations.push(op);
        j = end + 1;
      } else if (tok.kind === 'ident' && this.#isPunct(j + 1, ':')) {
        const [value, next] = this.#value(j + 2, close);
        integration.entries.push({ key: tok.value, pos: posOf(tok), value });
        if (this.#strict && (tok.value === 'default_cache_ttl' || tok.value === 'fallback')) {
          this.#planned(
            tok,
            `integration key "${tok.value}:" is documentation syntax the Go parser rejects`,
          );
        }
        j = next;
      } else if (this.#isPunct(j, '{')) {
        j = this.#match[j]! + 1;
      } else {
        j++;
      }
    }
    return integration;
  }

  /** `key: value` entries in `[j, end)`, skipping whatever else is there. */
  #entries(
    j: number,
    end: number,
    where: 'config' | 'middleware' | 'integration' | 'nested',
  ): Entry[] {
    const t = this.#t;
    const entries: Entry[] = [];
    while (j < end) {
      const tok = t[j]!;
      if (tok.kind === 'ident' && this.#isPunct(j + 1, ':') && j + 1 < end) {
        const [value, next] = this.#value(j + 2, end);
        entries.push({ key: tok.value, pos: posOf(tok), value });
        if (where !== 'nested') this.#checkDocValue(value, where, tok.value);
        j = next;
      } else if (tok.kind === 'ident' && this.#isPunct(j + 1, '{')) {
        // `jwks { … }`: a nested block without a colon.
        const [value, next] = this.#value(j, end);
        entries.push({ key: tok.value, pos: posOf(tok), value });
        j = next;
      } else if (this.#isPunct(j, '{')) {
        j = this.#match[j]! + 1;
      } else {
        j++;
      }
    }
    return entries;
  }

  #checkDocValue(value: Value, where: string, key: string): void {
    if (!this.#strict) return;
    if (value.kind === 'block') {
      this.#planned(
        value.pos,
        `"${key}:" with a block value is documentation syntax the Go parser rejects`,
      );
    } else if (where === 'integration' && key === 'cache') {
      this.#planned(
        value.pos,
        'an operation "cache:" is documentation syntax the Go parser rejects',
      );
    } else {
      this.#checkBareDuration(value);
    }
  }

  #checkBareDuration(value: Value): void {
    if (this.#strict && value.kind === 'number' && /[a-z]/i.test(value.raw)) {
      this.#planned(
        value.pos,
        `the bare duration ${value.raw}; the Go parser needs "${value.raw}"`,
      );
    }
  }

  /** One value starting at `j`; returns it and the index after it. Never reads past `end`. */
  #value(j: number, end: number): [Value, number] {
    if (this.#depth >= MAX_NESTING) {
      // Values nest by recursion: a spec nested thousands deep would overflow the stack.
      // The rest of the enclosing range is skipped with one error.
      const at = this.#t[Math.min(j, this.#t.length - 1)];
      const pos = at ? posOf(at) : { line: 1, column: 1 };
      this.#error(pos, `values nested deeper than ${MAX_NESTING} levels`);
      return [{ kind: 'other', pos }, Math.max(end, j + 1)];
    }
    this.#depth++;
    try {
      return this.#valueAt(j, end);
    } finally {
      this.#depth--;
    }
  }

  #valueAt(j: number, end: number): [Value, number] {
    const t = this.#t;
    const tok = t[j];
    if (!tok || j >= end) {
      const last = t[Math.min(j, t.length) - 1] ?? { line: 1, column: 1 };
      return [{ kind: 'other', pos: { line: last.line, column: last.column } }, j];
    }
    const pos = posOf(tok);
    if (tok.kind === 'string') return [{ kind: 'string', value: tok.value, pos }, j + 1];
    if (tok.kind === 'number') return [{ kind: 'number', raw: tok.value, pos }, j + 1];
    if (tok.kind === 'ident') {
      let name = tok.value;
      let k = j + 1;
      while (k + 1 < end && this.#isPunct(k, '.') && this.#isIdent(k + 1, end)) {
        name += `.${t[k + 1]!.value}`;
        k += 2;
      }
      if (k < end && this.#isPunct(k, '(')) {
        const [args, next] = this.#arguments(k, end);
        return [{ kind: 'call', name, args, pos }, next];
      }
      if (k < end && this.#isPunct(k, '{')) {
        const close = this.#match[k]!;
        const entries = this.#entries(k + 1, Math.min(close, end), 'nested');
        return [{ kind: 'block', head: name, entries, pos }, Math.min(close + 1, end)];
      }
      return [{ kind: 'ident', name, pos }, k];
    }
    if (this.#isPunct(j, '{')) {
      const close = this.#match[j]!;
      const entries = this.#entries(j + 1, Math.min(close, end), 'nested');
      return [{ kind: 'block', head: undefined, entries, pos }, Math.min(close + 1, end)];
    }
    if (this.#isPunct(j, '[')) {
      const items: Value[] = [];
      let k = j + 1;
      while (k < end && !this.#isPunct(k, ']')) {
        if (this.#isPunct(k, ',')) {
          k++;
          continue;
        }
        const [item, next] = this.#value(k, end);
        items.push(item);
        k = next > k ? next : k + 1;
      }
      return [{ kind: 'list', items, pos }, Math.min(k + 1, end)];
    }
    return [{ kind: 'other', pos }, j + 1];
  }

  /** `( value, value … )` starting at the `(` at `j`. */
  #arguments(j: number, end: number): [Value[], number] {
    const args: Value[] = [];
    let k = j + 1;
    while (k < end && !this.#isPunct(k, ')')) {
      if (this.#isPunct(k, ',')) {
        k++;
        continue;
      }
      if (this.#isPunct(k, '}')) break;
      const [arg, next] = this.#value(k, end);
      args.push(arg);
      k = next > k ? next : k + 1;
    }
    if (!this.#isPunct(k, ')')) {
      this.#error(this.#t[j]!, 'unterminated argument list: this "(" is never closed');
      return [args, k];
    }
    return [args, k + 1];
  }

  #isPunct(i: number, value: string): boolean {
    const tok = this.#t[i];
    return tok !== undefined && tok.kind === 'punct' && tok.value === value;
  }

  #isIdent(i: number, end = this.#t.length): boolean {
    const tok = this.#t[i];
    return i < end && tok !== undefined && tok.kind === 'ident';
  }

  #error(at: Pos, message: string): void {
    this.diagnostics.push({
      severity: 'error',
      code: 'SYNTAX',
      message,
      line: at.line,
      column: at.column,
    });
  }

  #planned(at: Pos, message: string): void {
    this.diagnostics.push({
      severity: 'error',
      code: 'PLANNED_SYNTAX',
      message: `${message} (strict mode)`,
      line: at.line,
      column: at.column,
    });
  }
}
