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
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** Default Redis for a one-machine trial and the tests. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Default key prefix: every key ecebot writes starts with `<prefix>:`. */
const DEFAULT_PREFIX = 'ecebot';

/** Where the queue lives. */
export interface QueueConfig {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Key prefix (no `:`); BullMQ queues live under `<prefix>:…`. `{name}` on a cluster. */
  prefix: string;
  /** PEM of the CA(s) to trust for `rediss://` besides Node's own (`REDIS_TLS_CA_FILE`). */
  tlsCa?: string;
  /** Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`); absent for a single server. */
  clusterNodes?: { host: string; port: number }[];
}

/** The queue configuration from the environment, or undefined when `REDIS_URL` is unset. */
export function queueConfigFrom(vars: NodeJS.ProcessEnv): QueueConfig | undefined {
  const url = vars.REDIS_URL?.trim();
  if (!url) return undefined;
  const clusterNodes = clusterNodesFrom(vars.REDIS_CLUSTER_NODES);
  const caFile = vars.REDIS_TLS_CA_FILE?.trim();
  let tlsCa: string | undefined;
  if (caFile) {
    try {
      tlsCa = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new Error(
        `REDIS_TLS_CA_FILE: cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of the PEM file of the CA that signed the Redis server's certificate`,
      );
    }
    if (!tlsCa.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error(`REDIS_TLS_CA_FILE: ${caFile} holds no PEM certificate`);
  }
  return {
    url,
    prefix: prefixFrom(vars, !!clusterNodes),
    ...(tlsCa ? { tlsCa } : {}),
    ...(clusterNodes ? { clusterNodes } : {}),
  };
}

/** `host:port,host:port` → nodes; a clear error for anything else. */
function clusterNodesFrom(raw: string | undefined): QueueConfig['clusterNodes'] {
  if (!raw?.trim()) return undefined;
  return raw.split(',').map(part => {
    const m = /^\s*([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})\s*$/.exec(part);
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535)
      throw new Error(
        `REDIS_CLUSTER_NODES: "${part.trim()}" is not host:port; list the cluster's seed nodes as host:port,host:port`,
      );
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });
}

/**
 * `ECEBOT_QUEUE_PREFIX` or the default, checked: BullMQ key names split on `:`. On a cluster the
 * prefix must be a hash tag (`{ecebot}`): Redis hashes only the part inside the first `{…}`
 * (Redis Cluster spec, "Hash tags"), so every ecebot key lands in one slot, as BullMQ's
 * multi-key scripts require.
 */
function prefixFrom(vars: NodeJS.ProcessEnv, cluster: boolean): string {
  const p = vars.ECEBOT_QUEUE_PREFIX?.trim() || (cluster ? `{${DEFAULT_PREFIX}}` : DEFAULT_PREFIX);
  if (!/^(?:[A-Za-z0-9_.-]+|\{[A-Za-z0-9_.-]+\})$/.test(p))
    throw new Error(
      `ECEBOT_QUEUE_PREFIX must be letters, digits, . _ - or such a name in braces ({ecebot}) (got ${JSON.stringify(p)})`,
    );
  if (cluster && !p.startsWith('{'))
    throw new Error(
      `ECEBOT_QUEUE_PREFIX must be a hash tag such as {${p}} on a Redis Cluster (REDIS_CLUSTER_NODES is set): BullMQ needs all keys of a queue in one slot`,
    );
  return p;
}

/** A duration in ms from the environment variable `name`, when set to a positive number. */
export function positiveMsFrom(vars: NodeJS.ProcessEnv, name: string): number | undefined {
  const n = Number(vars[name]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** `host:port` of a Redis URL, for messages (never the password). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured Redis';
  }
}

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

/** The queue is unreachable (Redis down or refusing); nothing was queued. */
export class QueueUnavailableError extends Error {
  /** Stable code for callers (the bot answers "queue unavailable"). */
  readonly code = 'QUEUE_UNAVAILABLE';

  constructor(where: string, cause?: Error) {
    super(
      `queue unavailable: Redis at ${where} is not reachable${cause ? ` (${cause.message})` : ''}; nothing was queued, try again when it is back`,
    );
    this.name = this.constructor.name;
    if (cause) this.cause = cause;
    Object.setPrototypeOf(this, new.target.prototype);
  }
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
