/**
 * The queue's own Lua scripts, registered on a connection with ioredis' `defineCommand`.
 *
 * They stay inline strings rather than `.lua` files: `tsc -p tsconfig.build.json` copies only
 * TypeScript output into `dist/`, and the image ships `dist/` alone (Dockerfile, .dockerignore),
 * so `.lua` files would need a copy step in the build, an entry in both allowlists and a lookup
 * that works from `src/` under Jest and from `dist/` — three places to forget for a dozen lines
 * of Lua. `defineCommand` sends EVALSHA and falls back to EVAL on NOSCRIPT, so a Redis that
 * restarted with an empty script cache still runs them (test/queue/redis-restart.test.ts).
 */
import type { Redis } from 'ioredis';

/** Atomic "join or claim": returns the holder's value, or nil after writing ours. */
const CLAIM_OR_JOIN = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

/**
 * Compare-and-set (ARGV[2] non-empty, with TTL ARGV[3]) or compare-and-delete (ARGV[2] empty),
 * so a finished run never clears a newer run's key. Returns 1 when it acted.
 */
const REPLACE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  return 1
end
return 0`;

/** A lease: keep it (refreshing the TTL) if ours, take it if free. Returns 1 when held. */
const HOLD_LEASE = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/** A connection with the queue's scripts as commands. */
export interface ScriptedRedis extends Redis {
  ecebotClaimOrJoin(key: string, value: string, ttlMs: string): Promise<string | null>;
  ecebotReplaceIf(key: string, expected: string, next: string, ttlMs: string): Promise<number>;
  ecebotHoldLease(key: string, holder: string, ttlMs: string): Promise<number>;
}

/** Register the scripts on `redis` (idempotent) and return it typed with them. */
export function withScripts(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.ecebotClaimOrJoin !== 'function') {
    redis.defineCommand('ecebotClaimOrJoin', { numberOfKeys: 1, lua: CLAIM_OR_JOIN });
    redis.defineCommand('ecebotReplaceIf', { numberOfKeys: 1, lua: REPLACE_IF });
    redis.defineCommand('ecebotHoldLease', { numberOfKeys: 1, lua: HOLD_LEASE });
  }
  return r;
}
