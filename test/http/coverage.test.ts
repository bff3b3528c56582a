/**
 * The first bar of issue #10: every numbered item 1–10 is covered by at least one row of
 * the scenario table, and each such row names its RFC section. A row claims an item with
 * `#10.N` at the start of its name (scenarios.ts).
 */
import { describe, expect, it } from 'vitest';
import { SCENARIOS } from './scenarios.js';

/** The issue #10 items a row claims: every `#10.N` in its leading tag list. */
function itemsOf(name: string): number[] {
  const tags = /^(#10\.\d+(?:,\s*#10\.\d+)*)\s/.exec(name)?.[1] ?? '';
  return [...tags.matchAll(/#10\.(\d+)/g)].map((m) => Number(m[1]));
}

describe('issue #10 coverage of the scenario table', () => {
  const claimed = SCENARIOS.filter((s) => itemsOf(s.name).length > 0);

  it('every item 1–10 has at least one row', () => {
    const covered = new Set(claimed.flatMap((s) => itemsOf(s.name)));
    const missing = Array.from({ length: 10 }, (_, i) => i + 1).filter((n) => !covered.has(n));
    expect(missing).toEqual([]);
  });

  it('every row claiming an item names its RFC section', () => {
    const unnamed = claimed.filter((s) => !/RFC \d{4} §\d/.test(s.name)).map((s) => s.name);
    expect(unnamed).toEqual([]);
  });

  it('no row claims an item the issue does not have', () => {
    const stray = claimed.filter((s) => itemsOf(s.name).some((n) => n < 1 || n > 10));
    expect(stray.map((s) => s.name)).toEqual([]);
  });

  it('row names are unique (a test name is how a failure is found)', () => {
    const names = SCENARIOS.map((s) => s.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
