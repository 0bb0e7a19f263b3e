/**
 * Rate limits of the bot: runs a person may start per minute, and messages a conversation may
 * send the bot per minute (the bot answers each with at least one card; Teams itself throttles
 * a bot at about 7 messages per second per conversation: teams-bot-notes.md §2). Fixed windows,
 * counted atomically: in Redis one Lua script increments, sets the window on the first hit and
 * answers the time left when over (so several bot replicas share one count); in memory the
 * same rule for the in-process mode. A refusal carries how long to wait.
 */
import type { Redis } from 'ioredis';

/** A limit: at most `max` in `windowMs`. */
export interface Limit {
  max: number;
  windowMs: number;
}

/**
 * Allowed, or how long until the window opens again; `first` marks the first refusal of a
 * window (the one worth answering: answering every refused message would be the flood again).
 */
export type Taken = { ok: true } | { ok: false; waitMs: number; first: boolean };

/** A refused run or message: what the refusal card says. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError';
  constructor(
    readonly what: 'runs' | 'messages',
    readonly waitMs: number,
  ) {
    super(
      `too many ${what === 'runs' ? 'checks started by you' : 'messages in this conversation'}; try again in ${Math.max(1, Math.ceil(waitMs / 1000))} s`,
    );
  }
}

/** Counts hits per key. */
export interface RateLimiter {
  take(key: string, limit: Limit): Promise<Taken>;
}

/** The limits in force, from ECEBOT_RUNS_PER_USER_PER_MINUTE and ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE. */
export interface BotLimits {
  runsPerUser: Limit;
  messagesPerConversation: Limit;
}

/** Defaults: a person rarely needs more than a few checks a minute; a chat, a few commands. */
export const DEFAULT_LIMITS: BotLimits = {
  runsPerUser: { max: 5, windowMs: 60_000 },
  messagesPerConversation: { max: 30, windowMs: 60_000 },
};

function perMinute(vars: NodeJS.ProcessEnv, name: string, fallback: Limit): Limit {
  const raw = vars[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new Error(`${name}=${JSON.stringify(raw.slice(0, 20))}: a whole number from 1 to 10000`);
  return { max: n, windowMs: 60_000 };
}

/** The limits from the environment; a malformed value stops start-up. */
export function limitsFrom(vars: NodeJS.ProcessEnv): BotLimits {
  return {
    runsPerUser: perMinute(vars, 'ECEBOT_RUNS_PER_USER_PER_MINUTE', DEFAULT_LIMITS.runsPerUser),
    messagesPerConversation: perMinute(
      vars,
      'ECEBOT_MESSAGES_PER_CONVERSATION_PER_MINUTE',
      DEFAULT_LIMITS.messagesPerConversation,
    ),
  };
}

/** INCR, PEXPIRE on the first hit of a window; over the limit → the window's time left (ms). */
const TAKE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
  return {left, n}
end
return {0, n}`;

type WithTake = Redis & {
  ecebotRateTake(key: string, windowMs: string, max: string): Promise<[number, number]>;
};

/** Shared by every bot replica on the same Redis and prefix. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithTake;
  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    const r = redis as WithTake;
    if (typeof r.ecebotRateTake !== 'function')
      redis.defineCommand('ecebotRateTake', { numberOfKeys: 1, lua: TAKE });
    this.redis = r;
  }

  async take(key: string, limit: Limit): Promise<Taken> {
    const [left, n] = await this.redis.ecebotRateTake(
      `${this.prefix}:rate:${key}`,
      String(limit.windowMs),
      String(limit.max),
    );
    return left > 0 ? { ok: false, waitMs: left, first: n === limit.max + 1 } : { ok: true };
  }
}

/** One process (the in-process mode). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { n: number; until: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, limit: Limit): Promise<Taken> {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || w.until <= t) {
      w = { n: 0, until: t + limit.windowMs };
      this.windows.set(key, w);
      // Forget closed windows now and then, so the map does not grow with every user ever seen.
      if (this.windows.size > 10_000)
        for (const [k, v] of this.windows) if (v.until <= t) this.windows.delete(k);
    }
    w.n++;
    return w.n > limit.max
      ? { ok: false, waitMs: w.until - t, first: w.n === limit.max + 1 }
      : { ok: true };
  }
}
