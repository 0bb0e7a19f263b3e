/**
 * Assembler heartbeats, the same way workers beat (src/queue/heartbeat.ts): each assembler
 * refreshes one key with a TTL and records when it was last seen without one. A client that
 * submitted a run reads them to tell "no assembler is running" from "the run is slow", so
 * `ecebot check` says what to start instead of waiting forever.
 */
import type { Redis } from 'ioredis';
import { keys } from './names';

/** What an assembler's beat says (no secrets: host name and process id only). */
export interface AssemblerBeat {
  at: string;
  host: string;
  pid: number;
}

/** Write one beat: the live key (with TTL) and the last-seen time. */
export async function beatAssembler(
  redis: Redis,
  prefix: string,
  b: AssemblerBeat,
  ttlMs: number,
): Promise<void> {
  await redis
    .multi()
    .set(keys.assemblerHeartbeat(prefix), JSON.stringify(b), 'PX', ttlMs)
    .set(keys.assemblerLastSeen(prefix), b.at)
    .exec();
}

/** Whether an assembler is live now, and when one was last seen. */
export interface AssemblerLiveness {
  live: boolean;
  /** ISO time of the last beat ever recorded, if any. */
  lastSeen?: string;
}

export async function assemblerLiveness(redis: Redis, prefix: string): Promise<AssemblerLiveness> {
  const [live, seen] = await Promise.all([
    redis.exists(keys.assemblerHeartbeat(prefix)),
    redis.get(keys.assemblerLastSeen(prefix)),
  ]);
  return { live: live === 1, ...(seen ? { lastSeen: seen } : {}) };
}
