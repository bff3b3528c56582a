/**
 * Reading the values of a spec — TTLs, header lists, strings and `env(NAME)` — with their
 * diagnostics. One reader per load: it owns the environment and the diagnostics list.
 */
import type { CodeAIDiagnosticCode, Diagnostic } from './diagnostics.js';
import type { Entry, Pos, Value } from './syntax.js';

/** With no config: a 5-minute default TTL (CODEAI.md). */
export const DEFAULT_TTL_MS = 5 * 60_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Reads values, reporting what cannot mean anything. */
export class ValueReader {
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #diagnostics: Diagnostic[];

  constructor(env: Readonly<Record<string, string | undefined>>, diagnostics: Diagnostic[]) {
    this.#env = env;
    this.#diagnostics = diagnostics;
  }

  /** An environment variable. */
  env(name: string): string | undefined {
    return this.#env[name];
  }

  /** A TTL in ms: a number is seconds, a duration takes `ms s m h d`; 0 is the default, with a warning. */
  ttl(value: Value, defaultMs: number, what: string): number {
    let raw: string | undefined;
    if (value.kind === 'number') raw = value.raw;
    else if (value.kind === 'string') raw = value.value.trim();
    const match = raw === undefined ? null : /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw);
    if (!match) {
      this.report(
        'error',
        'INVALID_TTL',
        value.pos,
        `${what} must be a number of seconds or a duration such as "30s", "5m", "24h", "7d"${raw === undefined ? '' : `, got ${JSON.stringify(raw)}`}`,
      );
      return defaultMs;
    }
    const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
    if (ms === 0) {
      this.report(
        'warning',
        'TTL_ZERO_MEANS_DEFAULT',
        value.pos,
        `${what} of 0 means the default TTL (${defaultMs / 1000}s)`,
      );
      return defaultMs;
    }
    if (!Number.isSafeInteger(Math.round(ms))) {
      this.report('error', 'INVALID_TTL', value.pos, `${what} is too large`);
      return defaultMs;
    }
    return Math.round(ms);
  }

  varyBy(value: Value): string[] {
    const names: string[] = [];
    const items = value.kind === 'list' ? value.items : [value];
    for (const item of items) {
      const text = this.text(item);
      if (text === undefined) {
        this.report(
          'error',
          'INVALID_CACHE_CONFIG',
          item.pos,
          'vary_by lists header names, such as "Authorization, Accept-Language"',
        );
        continue;
      }
      for (const part of text.split(',')) {
        const name = part.trim();
        if (name === '') continue;
        if (!HEADER_RE.test(name)) {
          this.report(
            'error',
            'INVALID_CACHE_CONFIG',
            item.pos,
            `vary_by: ${JSON.stringify(name)} is not a header name`,
          );
          continue;
        }
        const lower = name.toLowerCase();
        if (!names.includes(lower)) names.push(lower);
      }
    }
    return names;
  }

  blockType(entries: Entry[]): string | undefined {
    return this.text(last(entries, 'type')?.value);
  }

  /** The text of a string, identifier or `env(NAME)`; undefined for other values. */
  text(value: Value | undefined): string | undefined {
    if (!value) return undefined;
    if (value.kind === 'string') return value.value;
    if (value.kind === 'ident') return value.name;
    if (value.kind === 'call' && value.name === 'env') {
      const arg = value.args[0];
      const name =
        arg?.kind === 'string' ? arg.value : arg?.kind === 'ident' ? arg.name : undefined;
      if (name === undefined || value.args.length !== 1) {
        this.report(
          'error',
          'SYNTAX',
          value.pos,
          'env() takes one variable name, such as env(REDIS_URL)',
        );
        return undefined;
      }
      const v = this.#env[name];
      if (v === undefined) {
        this.report('warning', 'ENV_NOT_SET', value.pos, `environment variable ${name} is not set`);
      }
      return v;
    }
    return undefined;
  }

  string(value: Value, what: string): string | undefined {
    const text = this.text(value);
    if (text === undefined && !(value.kind === 'call' && value.name === 'env')) {
      this.report(
        'error',
        'INVALID_CACHE_CONFIG',
        value.pos,
        `${what} must be a string or env(NAME)`,
      );
    }
    return text;
  }

  report(
    severity: Diagnostic['severity'],
    code: CodeAIDiagnosticCode,
    at: Pos,
    message: string,
  ): void {
    this.#diagnostics.push({ severity, code, message, line: at.line, column: at.column });
  }
}

/** The last entry named `key` (a later key overrides an earlier one). */
export function last(entries: Entry[], key: string): Entry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return entries[i];
  return undefined;
}
