/**
 * Worker heartbeats: each worker refreshes a key with a TTL for its vantage point, and records
 * when it was last seen without a TTL, so a run can say "no worker for services-1 seen since …"
 * instead of waiting for a worker that is not there.
 */
import type { Redis } from 'ioredis';
import { keys } from './names';

/** How often a worker beats by default. */
export const HEARTBEAT_INTERVAL_MS = 5000;
/** A vantage is live while its heartbeat is younger than this (three missed beats). */
export const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** What a heartbeat says (no secrets: host name and process id only). */
export interface Beat {
  vantage: string;
  at: string;
  host: string;
  pid: number;
}

/** Write one beat: the live key (with TTL) and the last-seen time. */
export async function beat(
  redis: Redis,
  prefix: string,
  b: Beat,
  ttlMs: number = HEARTBEAT_TTL_MS,
): Promise<void> {
  await redis
    .multi()
    .set(keys.heartbeat(prefix, b.vantage), JSON.stringify(b), 'PX', ttlMs)
    .hset(keys.lastSeen(prefix), b.vantage, b.at)
    .exec();
}

/** Whether each vantage has a live worker, and when one was last seen. */
export interface Liveness {
  vantage: string;
  live: boolean;
  /** ISO time of the last beat ever recorded, if any. */
  lastSeen?: string;
}

export async function liveness(
  redis: Redis,
  prefix: string,
  vantages: readonly string[],
): Promise<Liveness[]> {
  if (!vantages.length) return [];
  const p = redis.multi();
  for (const v of vantages) p.exists(keys.heartbeat(prefix, v));
  p.hmget(keys.lastSeen(prefix), ...vantages);
  const res = (await p.exec()) ?? [];
  const seen = (res[vantages.length]?.[1] ?? []) as (string | null)[];
  return vantages.map((vantage, i) => {
    const out: Liveness = { vantage, live: Number(res[i]?.[1] ?? 0) === 1 };
    const s = seen[i];
    if (s) out.lastSeen = s;
    return out;
  });
}

/** The reason a vantage point's items end NO_WORKER, in the words the card shows. */
export function noWorkerReason(l: Pick<Liveness, 'vantage' | 'lastSeen'>): string {
  return l.lastSeen
    ? `no worker for ${l.vantage} seen since ${l.lastSeen}`
    : `no worker for ${l.vantage} has ever been seen`;
}
