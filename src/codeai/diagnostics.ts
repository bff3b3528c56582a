/**
 * Diagnostics of a `.cai` spec: a stable code, a message and a 1-based `line:column`. A
 * spec with any `error` does not load; `warning`s are reported and the spec loads.
 */

/** Stable diagnostic codes; switch on these, never on messages. */
export const CodeAIDiagnosticCode = {
  /** Broken structure: unterminated string, comment or block, a stray `}`, a malformed declaration. */
  SYNTAX: 'SYNTAX',
  /** An endpoint names a middleware no `middleware` block declares. */
  UNKNOWN_MIDDLEWARE: 'UNKNOWN_MIDDLEWARE',
  /** A TTL that is not a number of seconds or a duration (`ms s m h d`). */
  INVALID_TTL: 'INVALID_TTL',
  /** A cache setting whose value cannot mean anything (a backend other than redis/memory, a bad `vary_by`). */
  INVALID_CACHE_CONFIG: 'INVALID_CACHE_CONFIG',
  /** A cache directive on a POST/PUT/PATCH/DELETE endpoint: ignored. */
  CACHE_ON_NON_GET: 'CACHE_ON_NON_GET',
  /** `ttl: 0`: the default TTL is used. */
  TTL_ZERO_MEANS_DEFAULT: 'TTL_ZERO_MEANS_DEFAULT',
  /** An authenticated endpoint whose `vary_by` lacks `Authorization`: it is added. */
  AUTH_WITHOUT_VARY: 'AUTH_WITHOUT_VARY',
  /** A cache option this loader does not know: ignored. */
  UNKNOWN_CACHE_OPTION: 'UNKNOWN_CACHE_OPTION',
  /** Two declarations of one thing (a middleware name, an endpoint): the later one is ignored. */
  DUPLICATE: 'DUPLICATE',
  /** `env(NAME)` names a variable that is not set. */
  ENV_NOT_SET: 'ENV_NOT_SET',
  /** `@invalidates` naming a path no GET endpoint serves. */
  UNKNOWN_INVALIDATION_TARGET: 'UNKNOWN_INVALIDATION_TARGET',
  /** Strict mode only: a documentation form the reference Go parser rejects. */
  PLANNED_SYNTAX: 'PLANNED_SYNTAX',
} as const;

/** One of the {@link CodeAIDiagnosticCode} values. */
export type CodeAIDiagnosticCode = (typeof CodeAIDiagnosticCode)[keyof typeof CodeAIDiagnosticCode];

/** A problem found in a spec, at a 1-based line and column. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: CodeAIDiagnosticCode;
  message: string;
  line: number;
  column: number;
}

/**
 * Formats a diagnostic the way compilers do, `file:line:column: error CODE message`, followed
 * by the offending line and a caret under the column when `source` is given.
 */
export function formatDiagnostic(d: Diagnostic, source?: string, file = '<spec>'): string {
  const head = `${file}:${d.line}:${d.column}: ${d.severity} ${d.code} ${d.message}`;
  if (source === undefined) return head;
  const text = lineAt(source, d.line);
  if (text === undefined) return head;
  const gutter = `${d.line} | `;
  // Tabs keep their width under the caret so it lands under the right character.
  const pad = text.slice(0, Math.max(0, d.column - 1)).replace(/[^\t]/g, ' ');
  return `${head}\n${gutter}${text}\n${' '.repeat(gutter.length - 2)}| ${pad}^`;
}

function lineAt(source: string, line: number): string | undefined {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', start);
    if (nl === -1) return undefined;
    start = nl + 1;
  }
  const end = source.indexOf('\n', start);
  return source.slice(start, end === -1 ? undefined : end).replace(/\r$/, '');
}
