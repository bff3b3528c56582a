/** `codeai-cache del KEY…`: deletes keys of a Redis cache, under its prefix. */
import { type Command, parseCommandArgs, UsageError } from './command.js';
import { TARGET_HELP, TARGET_OPTIONS, withTarget } from './inspect-target.js';

const USAGE = `Usage: codeai-cache del KEY... [--cache URL] [--prefix P] [--json]

Deletes each KEY under the cache's prefix and says which existed. Exit status 0 either
way (deleting a missing key is not an error); --json prints {"deleted": N, "missing": [...]}.
To delete by pattern, use: codeai-cache flush --pattern 'user:*'.

${TARGET_HELP}

Example:
  codeai-cache del user:1 user:2 --cache redis://127.0.0.1:6379
`;

/** `del`. */
export const del: Command = {
  name: 'del',
  summary: 'Delete keys of a Redis cache.',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('del', argv, TARGET_OPTIONS);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length === 0)
      throw new UsageError('del needs at least one key: codeai-cache del KEY');
    return withTarget(values, io.env, async (target) => {
      const missing: string[] = [];
      for (const key of positionals) {
        if (!(await target.cache.delete(key))) missing.push(key);
      }
      const deleted = positionals.length - missing.length;
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ deleted, missing })}\n`);
      } else {
        for (const key of positionals) {
          io.stdout.write(`${missing.includes(key) ? 'not found' : 'deleted  '} ${key}\n`);
        }
      }
      return 0;
    });
  },
};
