/** `codeai-cache keys [PATTERN]`: the keys of a Redis cache matching a glob, under its prefix. */
import { type Command, parseCommandArgs, UsageError } from './command.js';
import { TARGET_HELP, TARGET_OPTIONS, withTarget } from './inspect-target.js';

const USAGE = `Usage: codeai-cache keys [PATTERN] [--cache URL] [--prefix P] [--json]

The keys under the cache's prefix that match PATTERN (a Redis glob: * ? [abc] [^a] [a-z],
\\ escapes; default *), printed without the prefix, one per line as SCAN finds them — or
a JSON array with --json. Never KEYS: a large keyspace is walked in batches.

${TARGET_HELP}

Examples:
  codeai-cache keys 'user:*' --cache redis://127.0.0.1:6379
  codeai-cache keys --json --cache 'redis://127.0.0.1:6379?prefix=shop' | jq length
`;

/** `keys`. */
export const keys: Command = {
  name: 'keys',
  summary: 'List the keys of a Redis cache that match a glob.',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('keys', argv, TARGET_OPTIONS);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 1) {
      throw new UsageError(
        `keys takes one pattern, got ${positionals.length} (quote it: 'user:*')`,
      );
    }
    const pattern = positionals[0] ?? '*';
    return withTarget(values, io.env, async (target) => {
      if (values.json) {
        const found: string[] = [];
        for await (const key of target.cache.scan(pattern)) found.push(key);
        io.stdout.write(`${JSON.stringify(found)}\n`);
        return 0;
      }
      let count = 0;
      for await (const key of target.cache.scan(pattern)) {
        count++;
        io.stdout.write(`${key}\n`);
      }
      if (io.stdout.isTTY) io.stdout.write(`(${count} key${count === 1 ? '' : 's'})\n`);
      return 0;
    });
  },
};
