/**
 * Property: whatever a valid spec becomes after random edits (characters deleted,
 * duplicated or swapped), `loadCodeAI` answers with a plan or with diagnostics — it never
 * throws, never reports a position outside the source, and always formats what it reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodeAIDiagnosticCode, formatDiagnostic, loadCodeAI } from '../../src/index.js';
import { examplesDir, fixturesDir } from './examples.js';

const seeds: string[] = [
  readFileSync(join(fixturesDir, 'bookshop.cai'), 'utf8'),
  `config { api_prefix: "/v1" cache: redis { ttl: 5m prefix: "p:" } }
middleware c { type cache config { ttl: 300 vary_by: ["Authorization"] } }
@cache("1m") @invalidates("/b")
endpoint GET "/a/{id}" { middleware c do { x = f("}") /* { */ } }
endpoint DELETE /a/{id} { cache: 5m }
integration I { default_cache_ttl: 15m fallback: cache operation o { method: GET path: "/o" cache: 10m } }`,
];
if (examplesDir) {
  seeds.push(readFileSync(join(examplesDir, '12-codegen-api__app.cai'), 'utf8'));
}

type Edit =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'swap'; at: number; with: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
);

function apply(source: string, e: Edit): string {
  if (source.length === 0) return source;
  const at = e.at % source.length;
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
      const other = e.with % source.length;
      const [i, j] = at < other ? [at, other] : [other, at];
      if (i === j) return source;
      return (
        source.slice(0, i) + source[j] + source.slice(i + 1, j) + source[i] + source.slice(j + 1)
      );
    }
  }
}

const CODES = new Set<string>(Object.values(CodeAIDiagnosticCode));

describe('loadCodeAI under random mutation', () => {
  it('answers with a plan or diagnostics, never a throw (1,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (seed, edits, strict) => {
          const source = edits.reduce(apply, seeds[seed]!);
          const result = loadCodeAI(source, { env: {}, strict });
          const lines = source.split('\n').length;
          for (const d of result.diagnostics) {
            expect(CODES.has(d.code)).toBe(true);
            expect(d.line).toBeGreaterThanOrEqual(1);
            expect(d.line).toBeLessThanOrEqual(lines);
            expect(d.column).toBeGreaterThanOrEqual(1);
            expect(typeof formatDiagnostic(d, source, 'm.cai')).toBe('string');
          }
          const hasError = result.diagnostics.some((d) => d.severity === 'error');
          expect(result.ok).toBe(!hasError);
          if (result.ok) expect(JSON.parse(JSON.stringify(result.plan))).toEqual(result.plan);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
