/**
 * The benchmark suites `bench/run.ts` registers, in the order it runs them: one list, so the
 * CLI's usage and the runner cannot drift apart (the runner's table is typed by it).
 */
export const BENCH_SUITES = [
  'memory',
  'redis',
  'http',
  'codeai',
  'serve',
  'tiered',
  'memory-bound',
] as const;

/** A suite name `codeai-cache bench` and `npm run bench` accept. */
export type BenchSuite = (typeof BENCH_SUITES)[number];
