/**
 * What the client (for progress) and the assembler (for the verdict) both read of a run in
 * flight: the run prepared from this process's inventory, and the parts its vantage points
 * reported so far.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Run } from '../model';
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import type { Environment } from '../inventory/types';
import type { Observation } from '../model';
import { prepareRun, type PreparedRun } from '../runner/prepare';
import { storedRefreshTokens, type StoredRefreshTokens } from '../store/tokens';
import type { Store } from '../store/types';
import { vantageOfChildKey, type RunJobData, type VantageResult } from './jobs';
import type { QueueLog } from './log';
import { keys, parseVantageId } from './names';

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

/** What the children reported so far, and which vantage points ended without reporting. */
export async function partsOf(
  job: Job<RunJobData, Run>,
  redis: Redis,
  prefix: string,
): Promise<Parts> {
  const [values, failures, gone] = await Promise.all([
    job.getChildrenValues<VantageResult>(),
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
  for (const r of Object.values(values)) {
    observations.push(...r.observations);
    reported.add(r.vantage);
    missing.delete(r.vantage);
  }
  for (const v of missing.keys()) reported.add(v);
  return { observations, reported, missing };
}
