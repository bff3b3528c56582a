/**
 * `codeai-cache flush [--pattern P]`: empties a Redis cache (everything under its prefix,
 * bookkeeping included) or the keys matching a glob. Destructive, so it asks first on a
 * terminal and wants `--yes` anywhere else.
 */
import { createInterface } from 'node:readline/promises';
import { type CliIO, type Command, parseCommandArgs, UsageError } from './command.js';
import {
  describePrefix,
  TARGET_HELP,
  TARGET_OPTIONS,
  type Target,
  withTarget,
} from './inspect-target.js';

const USAGE = `Usage: codeai-cache flush [--pattern P] [--yes] [--cache URL] [--prefix P] [--json]

Without --pattern: deletes everything under the cache's prefix, the library's bookkeeping
(tag versions, locks) included — without a prefix, every key of the database, by SCAN and
UNLINK (never FLUSHDB). With --pattern: deletes the keys matching that Redis glob.
Asks for confirmation on a terminal; anywhere else it needs --yes.

  --pattern <p>    Delete only the keys matching this glob (under the prefix).
  -y, --yes        Do not ask.
${TARGET_HELP}

Examples:
  codeai-cache flush --cache redis://127.0.0.1:6379 --prefix shop
  codeai-cache flush --pattern 'http:*' --yes --cache "$REDIS_URL"
`;

/** `flush`. */
export const flush: Command = {
  name: 'flush',
  summary: "Delete everything under a Redis cache's prefix, or the keys matching a glob.",
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('flush', argv, {
      ...TARGET_OPTIONS,
      pattern: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 0) {
      throw new UsageError(
        `flush takes no arguments, got "${positionals[0]}" (a glob goes in --pattern)`,
      );
    }
    const interactive = io.stdin?.isTTY === true && io.stdout.isTTY === true;
    if (values.yes !== true && !interactive) {
      throw new UsageError('flush deletes data: pass --yes to confirm when not on a terminal');
    }
    const pattern = values.pattern;
    return withTarget(values, io.env, async (target) => {
      if (values.yes !== true && !(await confirm(io, question(target, pattern)))) {
        io.stdout.write('nothing deleted\n');
        return 1;
      }
      let deleted: number;
      if (pattern !== undefined) {
        deleted = await target.cache.deletePattern(pattern);
      } else {
        // clear() says nothing of how many went: count them first (bookkeeping left out).
        deleted = 0;
        for await (const _ of target.cache.scan('*')) deleted++;
        await target.cache.clear();
      }
      if (values.json) io.stdout.write(`${JSON.stringify({ deleted })}\n`);
      else io.stdout.write(`deleted ${deleted} key${deleted === 1 ? '' : 's'}\n`);
      return 0;
    });
  },
};

function question(target: Target, pattern: string | undefined): string {
  const where = `${target.url}, prefix ${describePrefix(target.prefix)}`;
  return pattern === undefined
    ? `Delete EVERY key under the prefix in ${where}? [y/N] `
    : `Delete the keys matching ${JSON.stringify(pattern)} in ${where}? [y/N] `;
}

async function confirm(io: CliIO, text: string): Promise<boolean> {
  const rl = createInterface({
    input: io.stdin!,
    output: io.stdout as NodeJS.WritableStream,
    terminal: false,
  });
  try {
    const answer = await rl.question(text);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
