/**
 * The Lua scripts the store runs, each one small and O(number of keys it is given), so none
 * can block Redis for long. Scripts run atomically: that is why they exist here, not for
 * speed. They are sent by SHA (EVALSHA) and re-sent in full only when a server answers
 * NOSCRIPT (a restarted node, a Cluster node that never saw them), without touching the
 * caller's client (no `defineCommand` on a client the user handed us).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and its SHA1. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Invalidates tags: draws one new version from the cache's clock and gives it to every tag.
 * KEYS[1] = clock, KEYS[2..] = tag keys (all in one slot through their hash tag).
 * A version from the clock is above every version handed out before (the base included),
 * so an entry written with any earlier version can never match again.
 */
export const BUMP_TAGS = script(`
local v = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], v) end
return v
`);

/**
 * Raises the base version (the version of every tag without a key) above everything handed
 * out so far; `clear()` runs it so that no entry written before the clear validates after.
 * KEYS[1] = clock, KEYS[2] = base.
 */
export const RAISE_BASE = script(`
local v = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], v)
return v
`);

/**
 * Deletes tag-version keys whose version is not above ARGV[1] (the base): those read the
 * same as absent ones. A tag invalidated after the base was raised keeps its key, so
 * `clear()` cannot undo an invalidation that raced with it. KEYS = tag keys (one slot).
 */
export const DROP_OLD_TAGS = script(`
local base = tonumber(ARGV[1])
local n = 0
for i = 1, #KEYS do
  local v = tonumber(redis.call('GET', KEYS[i]))
  if v ~= nil and v <= base then n = n + redis.call('UNLINK', KEYS[i]) end
end
return n
`);

/**
 * Releases a getOrSet lock only if this holder still owns it (its token), then tells the
 * waiters on the flight channel. KEYS[1] = lock; ARGV[1] = token, ARGV[2] = channel,
 * ARGV[3] = the data key (the message).
 */
export const RELEASE_LOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`);

/** Runs a script by SHA, sending its source only when the server does not have it yet. */
export async function runScript(
  client: Redis | Cluster,
  s: Script,
  keys: readonly string[],
  args: readonly (string | number)[] = [],
): Promise<unknown> {
  // One array, never spread (see unlinkBatch): the key list can be a whole SCAN batch.
  const argv = [...keys, ...args.map(String)];
  try {
    return await client.evalsha(s.sha, keys.length, argv);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, keys.length, argv);
  }
}
