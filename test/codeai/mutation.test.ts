/**
 * Property: whatever a valid spec becomes after random edits (characters deleted,
 * duplicated or swapped), `loadCodeAI` answers with a plan or with diagnostics — it never
 * throws, never reports a position outside the source, and always formats what it reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { loadCodeAI } from '../../src/index.js';
import { applyEdit, type Edit, expectPlanOrDiagnostics } from './edits.js';
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

describe('loadCodeAI under random mutation', () => {
  it('answers with a plan or diagnostics, never a throw (1,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (seed, edits, strict) => {
          const source = edits.reduce(applyEdit, seeds[seed]!);
          expectPlanOrDiagnostics(source, loadCodeAI(source, { env: {}, strict }), 'm.cai');
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
