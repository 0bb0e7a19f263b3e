/**
 * Redis ACL users per role, with the fewest commands and keys each role needs (Redis ACL,
 * redis.io/docs/latest/operate/oss_and_stack/management/security/acl/). One place so the
 * deployment guide (docs/deployment.md) and the test that runs every role's real queue
 * operations through a redis-server with these users (test/redis/acl-tls.test.ts) agree.
 *
 * Commands: BullMQ does its work in Lua scripts (EVALSHA, falling back to EVAL on NOSCRIPT), and
 * Redis checks every command a script calls against the caller's ACL, keys included (ACL docs:
 * "scripts … commands … are checked"), so a user needs the commands inside the scripts too. The
 * list below is what BullMQ 5/6's scripts call (`rcall("…")` in bullmq/dist/cjs/scripts, plus the
 * LPUSH/RPUSH/ZCARD/LLEN they pick at run time), the commands its classes send directly
 * (BZPOPMIN for the worker's marker, XREAD for QueueEvents, INFO for its version check, CLIENT
 * SETNAME for worker names, MULTI/EXEC) and ecebot's own (heartbeats, in-flight keys, the watch
 * set, the store). Nothing of @admin/@dangerous beyond INFO and CLIENT SETNAME: no KEYS,
 * FLUSH*, CONFIG, DEBUG, SCRIPT FLUSH, MONITOR, CLIENT KILL.
 *
 * Keys: by prefix (`~<prefix>:…`). BullMQ flows make one limit unavoidable: when a vantage job
 * completes, its script moves the parent run (`<prefix>:runs:<id>:dependencies`, `:processed`,
 * and the runs queue's `wait`/`marker`/`events` keys), so a worker can write the runs queue's
 * keys. It cannot touch another vantage's queue, the store, the outbox or the assembler's keys.
 */
import { vantagePrefix } from '../queue/names';

/** The roles that connect to Redis. */
export type RedisRole = 'bot' | 'assembler' | 'worker' | 'central-worker';

/** Commands every role needs (see above); `+@connection` is not granted, only these. */
export const QUEUE_COMMANDS: readonly string[] = [
  // connection and BullMQ's own checks
  'ping',
  'hello',
  'select',
  'info',
  'client|setname',
  'client|getname',
  'quit',
  // scripts (BullMQ, ./../queue/scripts.ts); SCRIPT LOAD is not used (EVALSHA then EVAL)
  'evalsha',
  'eval',
  'multi',
  'exec',
  'discard',
  'time',
  // strings and keys
  'get',
  'set',
  'del',
  'unlink',
  'exists',
  'type',
  'rename',
  'incr',
  'incrby',
  'pexpire',
  'pexpireat',
  'persist',
  'pttl',
  // hashes
  'hget',
  'hset',
  'hmset',
  'hmget',
  'hdel',
  'hexists',
  'hgetall',
  'hincrby',
  'hlen',
  'hscan',
  // lists
  'lpush',
  'rpush',
  'lpop',
  'rpop',
  'rpoplpush',
  'lrange',
  'llen',
  'lindex',
  'lpos',
  'lrem',
  'lset',
  'ltrim',
  // sets
  'sadd',
  'srem',
  'smembers',
  'sismember',
  'scard',
  'sscan',
  // sorted sets
  'zadd',
  'zrem',
  'zcard',
  'zcount',
  'zscore',
  'zrange',
  'zrevrange',
  'zrangebyscore',
  'zrevrangebyscore',
  'zrangebylex',
  'zlexcount',
  'zremrangebyscore',
  'zremrangebyrank',
  'zpopmin',
  'bzpopmin',
  // streams (BullMQ events)
  'xadd',
  'xread',
  'xrange',
  'xlen',
  'xdel',
  'xtrim',
];

/** Options of a role's user. */
export interface AclUserOptions {
  /** ecebot's key prefix (ECEBOT_QUEUE_PREFIX), e.g. `{ecebot}` on a cluster. */
  prefix: string;
  /** The worker's queue identity, `ENV/SERVER` (worker roles only; `central` for the central worker). */
  vantage?: string;
}

/** The key patterns of a role, without the `~`. */
export function aclKeyPatterns(role: RedisRole, o: AclUserOptions): string[] {
  const p = o.prefix;
  const runsQueue = `${p}:runs:*`;
  switch (role) {
    case 'bot':
      // Submits, assembles (serve runs an assembler), keeps the store and the outbox.
      return [`${p}:*`];
    case 'assembler':
      return [
        runsQueue,
        `${vantagePrefix(p)}:*`,
        `${p}:run:*`,
        `${p}:inflight:*`,
        `${p}:heartbeat:*`,
        `${p}:last-seen`,
        `${p}:assembler:*`,
        `${p}:store:*`,
      ];
    case 'worker':
    case 'central-worker': {
      const v = o.vantage ?? (role === 'central-worker' ? 'central' : undefined);
      // A server's queue identity is ENV/SERVER (../queue/names.ts); central is shared.
      if (!v || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/.test(v))
        throw new Error(
          `a ${role} user needs its vantage as ENV/SERVER or central (letters, digits, . _ -)`,
        );
      return [
        `${vantagePrefix(p)}:${v}:*`,
        runsQueue,
        `${p}:heartbeat:${v}`,
        `${p}:last-seen`,
        // The central worker redeems refresh tokens kept sealed in the store's secrets hash.
        ...(role === 'central-worker' ? [`${p}:store:secrets`] : []),
      ];
    }
  }
}

/**
 * One `user …` line of an ACL file (redis.conf `aclfile`) for a role. The password is given as
 * its SHA-256 (`#<hex>`), so the file never holds it in clear (ACL docs: "#<hash>").
 */
export function aclUserLine(
  user: string,
  passwordSha256Hex: string,
  role: RedisRole,
  o: AclUserOptions,
): string {
  if (!/^[a-z0-9_-]+$/i.test(user)) throw new Error(`ACL user names are letters, digits, _ -`);
  if (!/^[0-9a-f]{64}$/.test(passwordSha256Hex))
    throw new Error('the password hash must be 64 lower-case hex digits (SHA-256)');
  return [
    'user',
    user,
    'on',
    `#${passwordSha256Hex}`,
    'resetkeys',
    ...aclKeyPatterns(role, o).map(k => `~${k}`),
    'resetchannels',
    '-@all',
    ...QUEUE_COMMANDS.map(c => `+${c}`),
  ].join(' ');
}
