/**
 * How ecebot reaches Redis: one URL (`REDIS_URL`), one key prefix (`ECEBOT_QUEUE_PREFIX`),
 * connection options tuned per role, and the error a producer reports while Redis is down.
 *
 * TLS: `rediss://` in `REDIS_URL`; the server's certificate is checked as usual (Node's CA store),
 * plus the PEM file in `REDIS_TLS_CA_FILE` when the server's CA is a private one. AUTH: an ACL
 * user and password in the URL (`rediss://bot:PASSWORD@host:6380`); ./acl.ts lists each role's
 * commands and keys. Cluster: `REDIS_CLUSTER_NODES=host:port,host:port` (seed nodes) switches to
 * ioredis' Cluster client, taking user, password and TLS from `REDIS_URL`; the prefix must then
 * be a hash tag such as `{ecebot}`, because BullMQ needs every key of a queue in one slot (and a
 * flow, parent and children, in one slot too).
 *
 * ioredis 6 speaks RESP3 by default and needs Redis ≥ 6 for it (teams-bot-notes.md §7);
 * BullMQ recommends Redis ≥ 6.2. Nothing here loads a native module: BullMQ's optional
 * `msgpackr-extract` accelerator is never required (msgpackr falls back to pure JavaScript), so
 * the worker runs on a plain Node 20 on a Windows ECE server.
 */
import { rootCertificates } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { describeUrl, QueueUnavailableError, type QueueConfig } from './config';

// The configuration from the environment lives in ./config.ts, which loads no Redis client: the
// CLI reads it for every `check` and loads ioredis only when REDIS_URL is set.
export {
  DEFAULT_REDIS_URL,
  describeUrl,
  positiveMsFrom,
  queueConfigFrom,
  QueueUnavailableError,
  type QueueConfig,
} from './config';

/**
 * Reconnect quickly and forever: a Redis restart should cost seconds, not the 20 s ceiling
 * of ioredis' default back-off.
 */
function retryStrategy(times: number): number {
  return Math.min(100 * times, 2000);
}

/** Connection roles: what each connection may do while Redis is away. */
export type ConnectionRole = 'producer' | 'worker';

/**
 * ioredis options for a role.
 * - `producer` (submit, store): `enableOfflineQueue: false` so a command fails at once while
 *   Redis is down instead of waiting in memory (BullMQ "going to production": producers fail
 *   fast), and a bounded retry per request.
 * - `worker` (BullMQ Worker, QueueEvents): `maxRetriesPerRequest: null`, which BullMQ requires
 *   for blocking commands, and an offline queue so they resume after a reconnect.
 */
function redisOptions(role: ConnectionRole): RedisOptions {
  return role === 'producer'
    ? {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        retryStrategy,
        connectTimeout: 5000,
      }
    : { maxRetriesPerRequest: null, retryStrategy, connectTimeout: 5000 };
}

/** TLS options for `rediss://`: Node's CAs plus the configured ones; never unchecked. */
function tlsOptions(cfg: QueueConfig): RedisOptions['tls'] | undefined {
  if (!/^rediss:/i.test(cfg.url)) return undefined;
  // Keep the public roots: giving `ca` alone would replace them (Node tls.createSecureContext).
  return cfg.tlsCa ? { ca: [...rootCertificates, cfg.tlsCa] } : {};
}

/**
 * A Cluster client for a role: the same per-role options for every node, user/password/TLS from
 * the URL. Typed as `Redis` for the callers (BullMQ takes both; every call ecebot makes exists on
 * both, and all keys share one slot through the hash-tag prefix).
 */
function connectCluster(
  cfg: QueueConfig,
  role: ConnectionRole,
  tls: RedisOptions['tls'] | undefined,
): Redis {
  const u = new URL(cfg.url);
  const { enableOfflineQueue, retryStrategy: _r, ...perNode } = redisOptions(role);
  const options: ClusterOptions = {
    ...(enableOfflineQueue === false ? { enableOfflineQueue: false } : {}),
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      ...perNode,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(tls ? { tls } : {}),
    },
  };
  return new Cluster(cfg.clusterNodes!, options) as unknown as Redis;
}

/** A new ioredis client for a role; errors are kept for messages, never thrown as events. */
export function connect(cfg: QueueConfig, role: ConnectionRole): Redis {
  const tls = tlsOptions(cfg);
  const client = cfg.clusterNodes
    ? connectCluster(cfg, role, tls)
    : new Redis(cfg.url, { ...redisOptions(role), ...(tls ? { tls } : {}), lazyConnect: false });
  // Without a listener ioredis prints every reconnect failure; callers read lastError instead.
  client.on('error', (err: Error) => {
    lastErrors.set(client, err);
  });
  client.on('ready', () => {
    lastErrors.delete(client);
    everReady.add(client);
  });
  return client;
}

const everReady = new WeakSet<Redis>();

/**
 * Wait for the first connection of a new client (a store used right after it is made), up to
 * `timeoutMs`. A client that was connected before and lost Redis does not wait: callers must
 * hear "queue unavailable" at once.
 */
export async function firstConnection(client: Redis, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready' || everReady.has(client) || client.status === 'end') return;
  await new Promise<void>(resolve => {
    const done = () => {
      clearTimeout(t);
      client.off('ready', done);
      resolve();
    };
    const t = setTimeout(done, timeoutMs);
    client.once('ready', done);
  });
}

const lastErrors = new WeakMap<Redis, Error>();

/** The last connection error of a client made by `connect`, if it is not connected now. */
export function lastError(client: Redis): Error | undefined {
  return lastErrors.get(client);
}

/** Throw QueueUnavailableError unless the client is connected and ready. */
export function ensureReady(client: Redis, url: string): void {
  if (client.status !== 'ready')
    throw new QueueUnavailableError(describeUrl(url), lastError(client));
}

/** Run a Redis operation, turning connection failures into QueueUnavailableError. */
export async function guardRedis<T>(client: Redis, url: string, op: () => Promise<T>): Promise<T> {
  await firstConnection(client);
  ensureReady(client, url);
  try {
    return await op();
  } catch (err) {
    if (client.status !== 'ready' || isConnectionError(err))
      throw new QueueUnavailableError(describeUrl(url), err as Error);
    throw err;
  }
}

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return (
    !!e &&
    (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code ?? '') ||
      /Stream isn't writeable|Connection is closed|enableOfflineQueue|max retries per request/i.test(
        e.message ?? '',
      ))
  );
}

/**
 * Let go of connections once their users are closed: `quit` (a clean goodbye) when Redis is up;
 * `disconnect` when it is away, since `quit` would wait for a reconnection that may never come,
 * and when a `quit` fails (said through `warn`, never swallowed).
 */
export async function releaseConnections(
  connections: readonly Redis[],
  away: boolean,
  warn: (err: Error) => void,
): Promise<void> {
  for (const c of connections) {
    if (away) {
      c.disconnect();
      continue;
    }
    await c.quit().catch((err: Error) => {
      warn(err);
      c.disconnect();
    });
  }
}
