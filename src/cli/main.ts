#!/usr/bin/env node
/** The `codeai-cache` executable (package.json `bin`). */
import { main } from './run.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // Read only when a command asks (flush on a terminal): touching it earlier costs a handle.
  get stdin() {
    return process.stdin;
  },
});
// A command that finished has released its sockets and timers; exit even if a library left one.
process.exit(code);
