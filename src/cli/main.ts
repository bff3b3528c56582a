#!/usr/bin/env node
/** The `codeai-cache` executable (package.json `bin`). */
import { main } from './run.js';

process.exitCode = main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
