/**
 * `codeai-cache get KEY`: one value as the cache hands it out (an envelope unwrapped, an
 * entry invalidated through a tag reads as missing), its size and its Redis TTL; text when
 * the bytes are readable UTF-8, else a hex dump.
 */
import { type Command, CommandError, parseCommandArgs, UsageError } from './command.js';
import { TARGET_HELP, TARGET_OPTIONS, withTarget } from './inspect-target.js';
import { formatMs } from './plan-table.js';

const USAGE = `Usage: codeai-cache get KEY [--cache URL] [--prefix P] [--json]

Prints one value: as text when it is valid UTF-8 (without control characters other than
tab and newline), else as a hex dump; with its size and the key's TTL in Redis. For an
entry getOrSet keeps past its freshness (grace, fail-safe) that TTL includes the extra
time. The value is read through the cache, so an entry invalidated through a tag reads as
missing. Exit status 1 when there is no such key.

--json prints {"key", "size", "ttlMs" (null: no expiry), "encoding" ("utf8" | "base64"),
"value"}.

${TARGET_HELP}

Example:
  codeai-cache get user:1 --cache redis://127.0.0.1:6379 --prefix shop
`;

/** Bytes a hex dump shows before it says how many more there are. */
const DUMP_LIMIT = 4096;

/** `get`. */
export const get: Command = {
  name: 'get',
  summary: 'Print one value of a Redis cache, with its TTL.',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('get', argv, TARGET_OPTIONS);
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(
        positionals.length === 0
          ? 'get needs a key: codeai-cache get KEY'
          : `get takes one key, got ${positionals.length}`,
      );
    }
    const key = positionals[0]!;
    return withTarget(values, io.env, async (target) => {
      const value = await target.cache.get(key);
      if (value === undefined) {
        throw new CommandError(
          `no key ${JSON.stringify(key)} under prefix ${JSON.stringify(target.prefix)} in ${target.url}`,
        );
      }
      const pttl = await target.client().pttl(target.redisKey(key));
      const ttlMs = pttl >= 0 ? pttl : null;
      const text = readableText(value);
      if (values.json) {
        io.stdout.write(
          `${JSON.stringify({
            key,
            size: value.length,
            ttlMs,
            encoding: text === undefined ? 'base64' : 'utf8',
            value: text ?? value.toString('base64'),
          })}\n`,
        );
        return 0;
      }
      io.stdout.write(
        `key    ${key}\nsize   ${value.length} byte${value.length === 1 ? '' : 's'}\nttl    ${ttlMs === null ? 'none (no expiry)' : formatTtl(ttlMs)}\n`,
      );
      if (text !== undefined) {
        io.stdout.write(`value  (UTF-8 text)\n${text}${text.endsWith('\n') ? '' : '\n'}`);
      } else {
        io.stdout.write(`value  (binary: hex dump)\n${hexDump(value.subarray(0, DUMP_LIMIT))}`);
        if (value.length > DUMP_LIMIT)
          io.stdout.write(`… ${value.length - DUMP_LIMIT} more bytes\n`);
      }
      return 0;
    });
  },
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes as text when they are UTF-8 a terminal shows faithfully, else undefined. */
export function readableText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  // Control characters (other than tab, newline, CR) would move the cursor or hide bytes.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is what it looks for
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
}

/** `offset  16 hex bytes  |ascii|` lines. */
export function hexDump(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) =>
      b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.',
    ).join('');
    out += `${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|\n`;
  }
  return out;
}

/** A TTL as `4m 59s` (whole seconds and above) or the exact unit below a second. */
function formatTtl(ms: number): string {
  if (ms < 1000) return formatMs(ms);
  const s = Math.floor(ms / 1000);
  const parts: string[] = [];
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) parts.push(`${d}d`);
  if (h > 0) parts.push(`${h}h`);
  if (m > 0) parts.push(`${m}m`);
  if (s % 60 > 0 || parts.length === 0) parts.push(`${s % 60}s`);
  return parts.join(' ');
}
