/**
 * Picks the bot's run service: the Redis queue when `REDIS_URL` is set (so the bot sees every
 * vantage point through the workers, and assembles runs with its full inventory), otherwise the
 * in-process service (demo, one-machine trial). `local` forces in-process. The CLI does not use
 * this: it submits through a `RunClient` and never assembles (src/cli.ts).
 */
import type { Inventory } from '../inventory/load';
import { refreshTokenKeeper } from '../store/tokens';
import type { Store } from '../store/types';
import type { AfterRun } from './assembler';
import { positiveMsFrom, queueConfigFrom } from '../redis/connection';
import { InProcessRunService } from './in-process';
import { SILENT_QUEUE_LOG, type QueueLog } from './log';
import { RedisRunService } from './redis-run-service';
import type { RunService } from './types';

/** Options shared by both implementations. */
export interface RunServiceOptions {
  inventory: () => Inventory;
  vars?: NodeJS.ProcessEnv;
  store?: Store;
  /** Run in this process even when REDIS_URL is set. */
  local?: boolean;
  afterRun?: AfterRun;
  log?: QueueLog;
}

/** Worker deadline from `ECEBOT_WORKER_DEADLINE_MS` (ms), when set and valid. */
export function workerDeadlineFrom(vars: NodeJS.ProcessEnv): number | undefined {
  return positiveMsFrom(vars, 'ECEBOT_WORKER_DEADLINE_MS');
}

/** Heartbeat interval from `ECEBOT_HEARTBEAT_MS` (ms), as workers read it. */
export function heartbeatFrom(vars: NodeJS.ProcessEnv): number | undefined {
  return positiveMsFrom(vars, 'ECEBOT_HEARTBEAT_MS');
}

export function createRunService(opts: RunServiceOptions): RunService {
  const vars = opts.vars ?? process.env;
  const queue = opts.local ? undefined : queueConfigFrom(vars);
  if (!queue)
    return new InProcessRunService(
      opts.inventory,
      vars,
      opts.store,
      // Runs redeem here: the refresh tokens Entra rotates to are kept in the same store.
      opts.store ? refreshTokenKeeper(opts.store, opts.log ?? SILENT_QUEUE_LOG) : undefined,
    );
  const deadline = workerDeadlineFrom(vars);
  const heartbeat = heartbeatFrom(vars);
  return new RedisRunService({
    queue,
    inventory: opts.inventory,
    vars,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.afterRun ? { afterRun: opts.afterRun } : {}),
    ...(deadline ? { workerDeadlineMs: deadline } : {}),
    ...(heartbeat ? { heartbeatMs: heartbeat } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
}
