/**
 * What the client (for progress) and the assembler (for the verdict) both read of a run in
 * flight: the run prepared from this process's inventory, and the parts its vantage points
 * reported so far.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import type { Environment } from '../inventory/types';
import type { Observation } from '../model';
import { prepareRun, type PreparedRun } from '../runner/prepare';
import { storedRefreshTokens, type StoredRefreshTokens } from '../store/tokens';
import type { Store } from '../store/types';
import { parseStored, StoredDataError, tryStored } from '../redis/stored';
import {
  vantageOfChildKey,
  vantagePartSchema,
  vantageResultSchema,
  PART_TTL_MS,
  type RunDone,
  type RunJobData,
  type VantagePart,
} from './jobs';
import type { QueueLog } from './log';
import { keys, parseVantageId, vantageId } from './names';

/** A process follows a handful of runs at a time; older prepared runs are dropped. */
const PREPARED_LIMIT = 100;

/** Runs prepared from this process's inventory (secrets resolved here stay here). */
export class PreparedRuns {
  private readonly cache = new Map<string, PreparedRun>();

  constructor(
    private readonly inventory: () => Inventory,
    private readonly vars: NodeJS.ProcessEnv,
    private readonly log: QueueLog,
    private readonly store?: Pick<Store, 'getSecret'>,
  ) {}

  /**
   * Refresh tokens kept from Teams sign-ins for the environment's mailboxes. The services
   * server's worker redeems them; the verdict needs to know they exist, or the token item would
   * say "no token configured" for a mailbox the worker just checked. Unreadable here (no
   * ECEBOT_SECRET_KEY in this process, or Redis away): none, and a warning.
   */
  async storedTokens(env: Environment): Promise<StoredRefreshTokens | undefined> {
    if (!this.store) return undefined;
    try {
      return await storedRefreshTokens(this.store, env);
    } catch (err) {
      this.log.warn(
        { err, environment: env.name },
        'stored sign-in tokens unreadable; judging without them',
      );
      return undefined;
    }
  }

  /** Keep a run prepared at submit, so this process does not prepare it again. */
  remember(run: PreparedRun): void {
    this.cache.set(run.id, run);
    if (this.cache.size > PREPARED_LIMIT) this.cache.delete(this.cache.keys().next().value!);
  }

  forget(runId: string): void {
    this.cache.delete(runId);
  }

  /** The queued run as prepared from this process's inventory; throws InputError if it can't. */
  async of(data: RunJobData): Promise<PreparedRun> {
    const cached = this.cache.get(data.runId);
    if (cached) return cached;
    const inv = this.inventory();
    const env = pickEnvironment(inv, data.environment, 'the queued run');
    const stored = await this.storedTokens(env);
    const p = {
      ...prepareRun(env, inv, {
        items: data.items,
        vars: this.vars,
        ...(stored ? { storedRefreshTokens: stored } : {}),
      }),
      id: data.runId,
    };
    this.remember(p);
    return p;
  }
}

/** What a run's vantage points reported so far. */
export interface Parts {
  observations: Observation[];
  /** Vantage points that reported or ended without reporting. */
  reported: Set<string>;
  /** Vantage points that ended without reporting, with the reason. */
  missing: Map<string, string>;
}

/**
 * A reported vantage point's observations, from its part key; a reason instead when the part is
 * gone (expired) or is not this run's and this vantage point's own.
 */
async function readPart(
  redis: Redis,
  prefix: string,
  data: RunJobData,
  vantage: string,
): Promise<VantagePart | string> {
  const key = keys.part(prefix, vantageId(data.environment, vantage), data.runId);
  const raw = await redis.get(key);
  if (raw === null)
    return `the worker for ${vantage} reported, but its observations are no longer in Redis (kept ${
      PART_TTL_MINUTES
    } min); run the check again`;
  try {
    const part = parseStored(vantagePartSchema, raw, key, `the observations of ${vantage}`);
    // Its worker may write only its own queue's keys (src/redis/acl.ts); what it writes must
    // still speak of this run and of itself, not of another vantage point it would impersonate.
    const foreign = part.observations.some(o => o.vantage !== vantage);
    if (part.runId !== data.runId || part.vantage !== vantage || foreign)
      throw new StoredDataError(
        key,
        `the observations of ${vantage}`,
        'they name another run or vantage point',
      );
    return part;
  } catch (err) {
    if (!(err instanceof StoredDataError)) throw err;
    return `the observations of ${vantage} could not be read: ${err.message}`;
  }
}

const PART_TTL_MINUTES = Math.round(PART_TTL_MS / 60_000);

/**
 * What the children reported so far, and which vantage points ended without reporting. A
 * child's return value only says that it reported (./jobs.ts); its observations are in its part.
 */
export async function partsOf(
  job: Job<RunJobData, RunDone>,
  redis: Redis,
  prefix: string,
  log: QueueLog,
): Promise<Parts> {
  const [values, failures, gone] = await Promise.all([
    job.getChildrenValues<unknown>(),
    job.getIgnoredChildrenFailures(),
    redis.hgetall(keys.missing(prefix, job.data.runId)),
  ]);
  const missing = new Map<string, string>(Object.entries(job.data.missing));
  for (const [v, why] of Object.entries(gone)) missing.set(v, why);
  for (const [key, why] of Object.entries(failures)) {
    const id = vantageOfChildKey(key, prefix);
    if (id) {
      const v = parseVantageId(id).vantage;
      missing.set(v, `the worker for ${v} could not run its part: ${why}`);
    }
  }
  const observations: Observation[] = [];
  const reported = new Set<string>();
  for (const [key, value] of Object.entries(values)) {
    // BullMQ hands back the JSON it parsed; checked like any other value from Redis.
    const r = tryStored(
      vantageResultSchema,
      JSON.stringify(value ?? null),
      `${prefix}:runs:${job.id}:processed ${key}`,
      "a vantage point's return value",
      err => log.warn({ err, runId: job.data.runId }, 'child return value skipped'),
    );
    if (!r || !job.data.vantages.includes(r.vantage)) continue;
    const part = await readPart(redis, prefix, job.data, r.vantage);
    reported.add(r.vantage);
    if (typeof part === 'string') {
      log.warn({ runId: job.data.runId, vantage: r.vantage }, part);
      missing.set(r.vantage, part);
      continue;
    }
    observations.push(...part.observations);
    missing.delete(r.vantage);
  }
  for (const v of missing.keys()) reported.add(v);
  return { observations, reported, missing };
}

/** Delete a run's parts once it is assembled (they expire anyway, see PART_TTL_MS). */
export async function dropParts(redis: Redis, prefix: string, data: RunJobData): Promise<void> {
  const ids = data.vantages.map(v => keys.part(prefix, vantageId(data.environment, v), data.runId));
  // One DEL per key: on a cluster without a hash tag the keys may live in different slots.
  await Promise.all(ids.map(k => redis.del(k)));
}
