/** `codeai-cache stats`: what a Redis cache holds under its prefix, and the server's state. */
import { type Command, parseCommandArgs, UsageError } from './command.js';
import { describePrefix, TARGET_HELP, TARGET_OPTIONS, withTarget } from './inspect-target.js';

const USAGE = `Usage: codeai-cache stats [--cache URL] [--prefix P] [--json]

The health of a Redis cache, how many keys it holds under its prefix (counted with SCAN,
the library's own bookkeeping keys left out), and the server's version and memory.

${TARGET_HELP}

Example:
  codeai-cache stats --cache redis://127.0.0.1:6379/0 --prefix shop
`;

/** `stats`. */
export const stats: Command = {
  name: 'stats',
  summary: 'Health, key count and memory of a Redis cache.',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('stats', argv, TARGET_OPTIONS);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`stats takes no arguments, got "${positionals[0]}"`);
    return withTarget(values, io.env, async (target) => {
      const health = await target.cache.health();
      let keys = 0;
      for await (const _ of target.cache.scan('*')) keys++;
      const info = parseInfo(await target.client().info());
      const report = {
        cache: target.url,
        prefix: target.prefix,
        status: health.status,
        ...(health.error === undefined ? {} : { error: health.error }),
        keys,
        server: {
          version: info.get('redis_version') ?? null,
          usedMemory: info.get('used_memory_human') ?? null,
          maxMemory: info.get('maxmemory_human') ?? null,
          evictionPolicy: info.get('maxmemory_policy') ?? null,
          uptimeSeconds: Number(info.get('uptime_in_seconds') ?? Number.NaN),
        },
      };
      if (values.json) {
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return 0;
      }
      const rows: [string, string][] = [
        ['cache', report.cache],
        ['prefix', describePrefix(report.prefix)],
        [
          'status',
          health.error === undefined ? health.status : `${health.status}: ${health.error}`,
        ],
        ['keys', `${keys} under the prefix`],
        ['server', `redis ${report.server.version ?? '?'}, up ${report.server.uptimeSeconds} s`],
        [
          'memory',
          `${report.server.usedMemory ?? '?'} used (whole server), maxmemory ${report.server.maxMemory ?? '?'}, policy ${report.server.evictionPolicy ?? '?'}`,
        ],
      ];
      io.stdout.write(rows.map(([k, v]) => `${k.padEnd(8)} ${v}\n`).join(''));
      return 0;
    });
  },
};

/** `INFO`'s `name:value` lines. */
function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}
