/**
 * The queue's configuration from the environment (`REDIS_URL`, `ECEBOT_QUEUE_PREFIX`,
 * `REDIS_TLS_CA_FILE`, `REDIS_CLUSTER_NODES`) and the error a producer reports while Redis is
 * down, without loading a Redis client: `ecebot check` reads this on every start, and needs
 * ioredis only when REDIS_URL is set (./connection.ts re-exports all of it).
 */
import { readFileSync } from 'node:fs';

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
