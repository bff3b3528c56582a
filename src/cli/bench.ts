/**
 * `codeai-cache bench [suite…]`: the benchmark suite `npm run bench` runs (`bench/run.ts`).
 *
 * The suite is not in the npm package: it needs the anchors it measures against
 * (lru-cache, cache-manager, apicache, express, fastify, hono, autocannon) and a
 * redis-server, which a library's users should not have to install. So the command runs
 * the suite of the source checkout it belongs to, through tsx, and from an installed
 * package it says where to find it instead.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BENCH_SUITES } from './bench-suites.js';
import { COMMON_OPTIONS, type Command, CommandError, parseCommandArgs } from './command.js';

const USAGE = `Usage: codeai-cache bench [${BENCH_SUITES.join('|')} ...]

Runs the benchmark suite (every suite, or the ones named), each against its anchors in the
same process, and prints ratios and PASS / FAIL against the bars. The same as
"npm run bench" in a clone of the repository.

The suite ships with the source repository, not with the npm package (it needs the anchor
libraries, a load generator and redis-server): run it from a clone, after "npm ci".
bench/README.md there says what each benchmark guards and records the last figures.

  --verbose        Print a failure's stack trace.
  -h, --help       Show this help.

Example:
  codeai-cache bench memory codeai
`;

/** The checkout this file belongs to: `src/cli/` and `dist/cli/` both sit two levels down. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `bench`. */
export const bench: Command = {
  name: 'bench',
  summary: 'Run the benchmark suite (from a clone of the repository).',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('bench', argv, COMMON_OPTIONS);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const script = `${ROOT}bench/run.ts`;
    if (!existsSync(script)) {
      throw new CommandError(
        'the benchmark suite ships with the source repository, not the npm package: clone it, run "npm ci", then "npm run bench" there',
      );
    }
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...positionals], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    return new Promise((done, fail) => {
      child.on('error', (err) =>
        fail(new CommandError(`cannot start the benchmarks: ${err.message}`)),
      );
      child.on('exit', (code, signal) => {
        if (signal !== null) fail(new CommandError(`the benchmarks were stopped by ${signal}`));
        else done(code ?? 1);
      });
    });
  },
};
