/**
 * Timing for the benchmarks: run a workload for a fixed number of operations, a few times,
 * and keep the median rate. Every contender runs the same key sequence in the same process,
 * interleaved round by round, so machine noise hits all of them alike.
 */

/** One contender's operation: synchronous, or awaited once per call as users call it. */
export type Op = (key: string) => unknown;

export interface Contender {
  name: string;
  /** Whether `op` returns a promise that must be awaited (one await per call). */
  async: boolean;
  op: Op;
}

async function runOnce(c: Contender, keys: readonly string[]): Promise<number> {
  const n = keys.length;
  const start = process.hrtime.bigint();
  if (c.async) {
    for (let i = 0; i < n; i++) await c.op(keys[i]!);
  } else {
    for (let i = 0; i < n; i++) c.op(keys[i]!);
  }
  const ns = Number(process.hrtime.bigint() - start);
  return n / (ns / 1e9);
}

/** Median ops/s of each contender over `rounds` interleaved runs (after one warm-up run each). */
export async function compare(
  contenders: readonly Contender[],
  keys: readonly string[],
  rounds = 5,
): Promise<Map<string, number>> {
  for (const c of contenders) await runOnce(c, keys.slice(0, Math.min(keys.length, 50_000)));
  const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) rates.get(c.name)!.push(await runOnce(c, keys));
  }
  return new Map([...rates].map(([name, list]) => [name, median(list)]));
}

function median(list: number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** `1.23 M/s` style. */
export function rate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(0)} /s`;
}

/** Prints a small aligned table. */
export function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}

/** A `PASS`/`FAIL` mark for a bar. */
export const bar = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
