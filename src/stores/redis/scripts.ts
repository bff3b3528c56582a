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
 * Draws a new tag version: above the last one handed out (the clock key) and at least the
 * server's time in microseconds, so a version is never handed out twice even when the
 * clock key is gone (`clear()`, expiry, eviction) — as long as the server's clock does not
 * step back past it. About 1.8e15 today: exact in a Lua number and in a JavaScript one
 * (below 2^53), and formatted with %.0f, as tostring would write 1.8e+15.
 * Every key gets (or keeps) a TTL: ARGV[1] ms, never shortened.
 */
const DRAW = `
if redis.replicate_commands then redis.replicate_commands() end
local ttl = tonumber(ARGV[1])
local function fmt(v) return string.format('%.0f', v) end
local function setWithTtl(key, v)
  redis.call('SET', key, fmt(v), 'PX', math.max(ttl, redis.call('PTTL', key)))
end
local function draw()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local v = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + 1, now)
  setWithTtl(KEYS[1], v)
  return v
end
`;

/**
 * The versions of tags, giving a tag without a key a new one. KEYS[1] = clock, KEYS[2..] =
 * tag keys (one slot through their hash tag); ARGV[1] = the TTL in ms. A tag in use has
 * its TTL renewed once less than half is left, so a read costs a write only that often.
 * A tag without a key gets a version above every earlier one, so an entry that recorded a
 * version of a tag whose key has since gone (expired, evicted, cleared) can never match
 * again: a lost tag key costs misses, never a resurrection.
 */
export const READ_TAGS = script(`${DRAW}
local out = {}
local fresh
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then
    if redis.call('PTTL', KEYS[i]) < ttl / 2 then redis.call('PEXPIRE', KEYS[i], ttl) end
    out[i - 1] = tonumber(v)
  else
    fresh = fresh or draw()
    setWithTtl(KEYS[i], fresh)
    out[i - 1] = fresh
  end
end
return out
`);

/**
 * Invalidates tags: draws one new version and gives it to every tag, so no entry written
 * with an earlier version matches again. KEYS[1] = clock, KEYS[2..] = tag keys (one slot);
 * ARGV[1] = the TTL in ms.
 */
export const BUMP_TAGS = script(`${DRAW}
local v = draw()
for i = 2, #KEYS do setWithTtl(KEYS[i], v) end
return v
`);

/**
 * Renews a getOrSet lock for ARGV[2] ms only if this holder still owns it (its token):
 * 1 when renewed, 0 when the lock expired or another holder took it. KEYS[1] = lock;
 * ARGV[1] = token.
 */
export const EXTEND_LOCK = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
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
  keys: readonly (string | Buffer)[],
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
