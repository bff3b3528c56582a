/**
 * What every `codeai-cache` command shares: the I/O it is given, the usage error (exit 2),
 * and argument parsing whose errors name the flag. Commands live one per file and are
 * registered in `run.ts`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** What the CLI writes to and reads from; the process by default. */
export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** Where a command asks its question (`flush` on a terminal); absent: nothing to ask. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** One `codeai-cache <name>` command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The text `codeai-cache <name> --help` prints. */
  usage: string;
  /** Runs the command; resolves to the exit code (throws `UsageError` for exit 2). */
  run(argv: string[], io: CliIO): Promise<number>;
}

/** A mistake in how the command was called: exit status 2, and the usage hint. */
export class UsageError extends Error {}

/** A failure to report as one line (exit 1): what went wrong, said for a person. */
export class CommandError extends Error {}

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/**
 * `parseArgs` in strict mode with positionals allowed, its errors turned into usage
 * errors that name the flag (`unknown option --jsn`, `--cache needs a value`).
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag !== undefined) {
      throw new UsageError(`unknown option ${flag} for ${command}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
      throw new UsageError(`${flag} needs a value`);
    }
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      throw new UsageError(message.split('\n')[0]!);
    }
    throw err;
  }
}
