/**
 * Property: every published CodeAI example spec, after random fast-check-driven edits
 * (deletions, duplications, swaps, inserted syntax fragments, truncation, one fragment
 * repeated hundreds of times to nest deeply), loads into a plan or into diagnostics — it
 * never throws (a stack overflow included), and never hangs: the test's own timeout is the
 * bound, generous for a loaded machine, which only a runaway parse can exceed.
 *
 * test/codeai/mutation.test.ts covers three seeds with 1,000 cases; this runs over all the
 * example specs with a wider set of edits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCodeAI } from '../../src/index.js';
import { applyEdit, type Edit, expectPlanOrDiagnostics } from '../codeai/edits.js';
import { exampleFiles, examplesDir } from '../codeai/examples.js';
import { runs, timeoutFor } from './util.js';

const specs = examplesDir
  ? exampleFiles.map((f) => ({ file: f, source: readFileSync(join(examplesDir!, f), 'utf8') }))
  : [];

/** Fragments of the `.cai` syntax (and of trouble) to insert. */
const FRAGMENTS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '"',
  "'",
  '`',
  '/*',
  '*/',
  '//',
  '\n',
  '\r',
  '\r\n',
  '\0',
  '\t',
  ':',
  ',',
  '@cache(',
  '@cache("1m")',
  '@invalidates("/x")',
  'endpoint GET "/a/{id}" {',
  'config {',
  'cache: redis {',
  'middleware m { type cache config { ttl: 5m } }',
  'ttl: ',
  'vary_by: [',
  '${',
  '$' + '{ENV}',
  '\\',
  '\\u',
  '😀',
  '\ud800',
  '\u2028',
  '\ufeff',
  '9'.repeat(400),
  '-1',
  '1e999',
  '0x',
  '5 minutes',
  'NaN',
  '__proto__',
  'constructor',
];

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('delete' as const, 'duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 8 })),
  }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    text: fc.constantFrom('{', '[', '(', '@cache(', 'config {', '"', '/*', 'a: {'),
    times: fc.integer({ min: 50, max: 3_000 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

describe.skipIf(specs.length === 0)('every example .cai spec under random edits', () => {
  it(
    'loads into a plan or diagnostics, never a throw or a hang',
    () => {
      fc.assert(
        fc.property(
          fc.nat({ max: specs.length - 1 }),
          fc.array(editArb, { minLength: 1, maxLength: 5 }),
          fc.boolean(),
          (index, edits, strict) => {
            const { file, source: original } = specs[index]!;
            const source = edits.reduce(applyEdit, original);
            const result = loadCodeAI(source, { env: {}, strict, file });
            // Formatting reads the source once per diagnostic; a few show that it works.
            expectPlanOrDiagnostics(source, result, file, 5);
          },
        ),
        { numRuns: runs(200) },
      );
    },
    timeoutFor(60_000),
  );

  // Regression (shrunk counterexample [0, [{ kind: 'repeat', at: 750522508, text: 'a: {',
  // times: 2013 }], false]): values nest by recursion, and 2,013 nested blocks overflowed
  // the stack with a RangeError. Now nesting beyond 200 levels is one SYNTAX error.
  it('a spec nested thousands of levels deep is a SYNTAX diagnostic, not a stack overflow', () => {
    const source = applyEdit(specs[0]!.source, {
      kind: 'repeat',
      at: 750522508,
      text: 'a: {',
      times: 2013,
    });
    const result = loadCodeAI(source, { env: {}, strict: false });
    expect(result.ok).toBe(false);
    expect(
      result.diagnostics.some((d) => d.code === 'SYNTAX' && /nested deeper/.test(d.message)),
    ).toBe(true);
    const inList = `config { cache: redis { ttl: ${'['.repeat(50_000)} } }`;
    expect(() => loadCodeAI(inList, { env: {} })).not.toThrow();
  });

  it('every example spec loads unedited without a throw', () => {
    for (const { file, source } of specs) {
      expect(() => loadCodeAI(source, { env: {}, file }), file).not.toThrow();
    }
  });
});
