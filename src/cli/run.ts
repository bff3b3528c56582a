/**
 * The `codeai-cache` commands. They use only the package's public entry point, as any user
 * would. Exit codes: 0 done, 1 the spec has errors (or cannot be read), 2 a usage error.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CodeAIPlan, formatDiagnostic, loadCodeAI } from '../index.js';
import { maskUrl, renderPlanTable } from './plan-table.js';
import { serve } from './serve.js';

const USAGE = `Usage: codeai-cache <command> [options]

Commands:
  plan <app.cai>   Load a CodeAI spec and print its cache plan.
  serve            Run a caching reverse proxy in front of an origin (serve --help).

Options for plan:
  --json           Print the plan as JSON (the default when stdout is not a terminal).
  --table          Print the readable table even when stdout is not a terminal.
  --strict         Accept only the forms the reference Go parser accepts.
  --cache <url>    Where the cache lives (redis://…, memory://), overriding the spec.
  -h, --help       Show this help.

Diagnostics go to stderr as file:line:column: severity CODE message.
Exit status: 0 loaded, 1 the spec has errors, 2 usage error.
`;

/** What the CLI writes to and reads from; the process by default. */
export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

class UsageError extends Error {}

/** Runs the CLI with `argv` (without `node` and the script); the exit code, or a promise of it for long-running commands. */
export function main(argv: string[], io: CliIO): number | Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === undefined) {
      io.stderr.write(USAGE);
      return 2;
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      io.stdout.write(USAGE);
      return 0;
    }
    if (command === 'plan') return plan(rest, io);
    if (command === 'serve') return serve(rest, io);
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr.write(
        `codeai-cache: ${(err as Error).message}\nRun "codeai-cache --help" for usage.\n`,
      );
      return 2;
    }
    throw err;
  }
}

function plan(argv: string[], io: CliIO): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      table: { type: 'boolean' },
      strict: { type: 'boolean' },
      cache: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? 'plan needs a spec file: codeai-cache plan app.cai'
        : `plan takes one spec file, got ${positionals.length}`,
    );
  }
  if (values.json && values.table)
    throw new UsageError('--json and --table cannot be used together');
  const cacheUrl = values.cache;
  if (cacheUrl !== undefined && !/^(redis|rediss|memory):\/\//.test(cacheUrl)) {
    throw new UsageError(
      `--cache must be a redis://, rediss:// or memory:// URL, got "${cacheUrl}"`,
    );
  }
  const file = positionals[0]!;
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    io.stderr.write(
      `codeai-cache: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`,
    );
    return 1;
  }
  const result = loadCodeAI(source, { strict: values.strict === true, env: io.env, file });
  for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d, source, file)}\n`);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    io.stderr.write(
      `${file}: ${errors} error${errors === 1 ? '' : 's'}; the spec was not loaded\n`,
    );
    return 1;
  }
  const loaded: CodeAIPlan = result.plan;
  if (cacheUrl !== undefined) {
    // Where the cache lives changes; the spec's prefix and TTLs still apply.
    const type = cacheUrl.startsWith('memory:') ? 'memory' : 'redis';
    loaded.backend = { ...loaded.backend, type };
    if (type === 'redis') loaded.backend.url = cacheUrl;
    else delete loaded.backend.url;
  }
  const asJson = values.json === true || (values.table !== true && io.stdout.isTTY !== true);
  if (asJson) {
    if (loaded.backend.url) loaded.backend.url = maskUrl(loaded.backend.url);
    io.stdout.write(`${JSON.stringify(loaded, null, 2)}\n`);
  } else {
    io.stdout.write(renderPlanTable(loaded));
  }
  return 0;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
