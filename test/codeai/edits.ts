/**
 * Random edits of a `.cai` source and what `loadCodeAI` must answer after them, shared by the
 * mutation properties (test/codeai/mutation.test.ts, test/properties/codeai.test.ts).
 */
import { expect } from 'vitest';
import { CodeAIDiagnosticCode, formatDiagnostic, type loadCodeAI } from '../../src/index.js';

/** One edit; positions wrap around the source, so any number is a valid one. */
export type Edit =
  | { kind: 'delete' | 'duplicate'; at: number; length: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'repeat'; at: number; text: string; times: number }
  | { kind: 'truncate'; at: number };

/** `source` after `e`. */
export function applyEdit(source: string, e: Edit): string {
  const n = source.length;
  const at = n === 0 ? 0 : e.at % (n + 1);
  switch (e.kind) {
    case 'delete':
      return source.slice(0, at) + source.slice(at + e.length);
    case 'duplicate':
      return (
        source.slice(0, at + e.length) +
        source.slice(at, at + e.length) +
        source.slice(at + e.length)
      );
    case 'swap': {
      if (n === 0) return source;
      const [i, j] = [at % n, e.with % n].sort((x, y) => x - y) as [number, number];
      if (i === j) return source;
      return (
        source.slice(0, i) + source[j] + source.slice(i + 1, j) + source[i] + source.slice(j + 1)
      );
    }
    case 'insert':
      return source.slice(0, at) + e.text + source.slice(at);
    case 'repeat':
      return source.slice(0, at) + e.text.repeat(e.times) + source.slice(at);
    case 'truncate':
      return source.slice(0, at);
  }
}

const CODES = new Set<string>(Object.values(CodeAIDiagnosticCode));

/**
 * What a load of any source must be: a plan (JSON-safe) or diagnostics with known codes and
 * positions inside the source, `ok` exactly when no diagnostic is an error. The first
 * `formatted` diagnostics are formatted too (formatting reads the source once each).
 */
export function expectPlanOrDiagnostics(
  source: string,
  result: ReturnType<typeof loadCodeAI>,
  file: string,
  formatted = Number.POSITIVE_INFINITY,
): void {
  const lines = source.split('\n').length;
  for (const [i, d] of result.diagnostics.entries()) {
    expect(CODES.has(d.code), d.code).toBe(true);
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines);
    expect(d.column).toBeGreaterThanOrEqual(1);
    if (i < formatted) expect(typeof formatDiagnostic(d, source, file)).toBe('string');
  }
  expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === 'error'));
  if (result.ok) expect(JSON.parse(JSON.stringify(result.plan))).toEqual(result.plan);
}
