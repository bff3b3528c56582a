/**
 * `npm run bench`: every benchmark suite, each printing its figures and the ratios against
 * its anchors measured in the same process. `npm run bench -- memory` (or any name in
 * `BENCH_SUITES`, src/cli/bench-suites.ts) runs one suite.
 * Benchmarks report; they never gate CI.
 */
import { BENCH_SUITES, type BenchSuite } from '../src/cli/bench-suites.js';
import { benchCodeAI } from './codeai.js';
import { benchHttp } from './http/run.js';
import { benchMemory } from './memory.js';
import { benchMemoryBound } from './memory-bound.js';
import { benchRedis } from './redis.js';
import { benchServe } from './serve.js';
import { benchTiered } from './tiered.js';

// Typed by the shared list: a suite added here and not there (or the reverse) does not compile.
const suites: Record<BenchSuite, () => Promise<boolean>> = {
  memory: benchMemory,
  redis: benchRedis,
  http: () => benchHttp(),
  codeai: benchCodeAI,
  serve: () => benchServe(),
  tiered: benchTiered,
  'memory-bound': benchMemoryBound,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((name) => !(name in suites));
if (unknown.length > 0) {
  console.error(`unknown suite(s): ${unknown.join(', ')} (known: ${BENCH_SUITES.join(', ')})`);
  process.exit(2);
}
let allPassed = true;
for (const name of BENCH_SUITES) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  allPassed = (await suites[name]()) && allPassed;
}
console.log(`\nbars: ${allPassed ? 'all passed' : 'some missed (see FAIL above)'}`);
