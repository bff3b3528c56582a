/**
 * The `codeai-cache` commands. They use only the package's public entry point, as any user
 * would. Exit codes: 0 done, 1 a failure (the spec has errors, Redis is unreachable, …),
 * 2 a usage error. A failure is one line on stderr; `--verbose` adds the stack.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CodeAIPlan, formatDiagnostic, loadCodeAI } from '../index.js';
import { bench } from './bench.js';
import { type CliIO, type Command, UsageError } from './command.js';
import { del } from './del.js';
import { demo } from './demo.js';
import { flush } from './flush.js';
import { get } from './get.js';
import { keys } from './keys.js';
import { maskUrl, renderPlanTable } from './plan-table.js';
import { serve } from './serve.js';
import { stats } from './stats.js';

export type { CliIO } from './command.js';

/** Every command but `plan` (below), in the order `--help` lists them. */
const COMMANDS: readonly Command[] = [serve, demo, stats, keys, get, del, flush, bench];

const USAGE = `Usage: codeai-cache <command> [options]

Commands:
  plan <app.cai>   Load a CodeAI spec and print its cache plan.
${COMMANDS.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`).join('\n')}

"codeai-cache <command> --help" tells more about one command.
Every command takes --verbose (a failure's stack trace with its message).

Options for plan:
  --json           Print the plan as JSON (the default when stdout is not a terminal).
  --table          Print the readable table even when stdout is not a terminal.
  --strict         Accept only the forms the reference Go parser accepts.
  --cache <url>    Where the cache lives (redis://…, memory://), overriding the spec.
  -h, --help       Show this help.
  --verbose        Print a failure's stack trace.

Diagnostics go to stderr as file:line:column: severity CODE message.
Exit status: 0 loaded, 1 the spec has errors, 2 usage error.
`;

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(USAGE);
      return 2;
    }
    if (name === '-h' || name === '--help' || name === 'help') {
      const about = COMMANDS.find((c) => c.name === rest[0]);
      io.stdout.write(about?.usage ?? USAGE);
      return 0;
    }
    if (name === 'plan') return plan(rest, io);
    const command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) throw new UsageError(`unknown command "${name}"`);
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      const help = COMMANDS.some((c) => c.name === name)
        ? `codeai-cache ${name} --help`
        : 'codeai-cache --help';
      io.stderr.write(`codeai-cache: ${(err as Error).message}\nRun "${help}" for usage.\n`);
      return 2;
    }
    // One clear line, never a stack trace unless asked for.
    const verbose = argv.includes('--verbose');
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`codeai-cache: ${message}\n`);
    for (let e: unknown = err; verbose && e instanceof Error; e = e.cause) {
      io.stderr.write(`${e === err ? '' : 'caused by: '}${e.stack ?? e.message}\n`);
    }
    return 1;
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
      verbose: { type: 'boolean' },
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
