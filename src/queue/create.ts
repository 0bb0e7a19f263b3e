/**
 * Picks the run service: the Redis queue when `REDIS_URL` is set (so the CLI and the bot see
 * every vantage point through the workers), otherwise the in-process service (demo, one-machine
 * trial). `local` forces in-process.
 */
import type { Inventory } from '../inventory/load';
import type { Store } from '../store/types';
import { positiveMsFrom, queueConfigFrom } from './connection';
import { InProcessRunService } from './in-process';
import { RedisRunService, type RedisRunServiceOptions } from './redis-run-service';
import type { RunService } from './types';

/** Options shared by both implementations. */
export interface RunServiceOptions {
  inventory: () => Inventory;
  vars?: NodeJS.ProcessEnv;
  store?: Store;
  /** Run in this process even when REDIS_URL is set. */
  local?: boolean;
  afterRun?: RedisRunServiceOptions['afterRun'];
}

/** Worker deadline from `ECEBOT_WORKER_DEADLINE_MS` (ms), when set and valid. */
export function workerDeadlineFrom(vars: NodeJS.ProcessEnv): number | undefined {
  return positiveMsFrom(vars, 'ECEBOT_WORKER_DEADLINE_MS');
}

export function createRunService(opts: RunServiceOptions): RunService {
  const vars = opts.vars ?? process.env;
  const queue = opts.local ? undefined : queueConfigFrom(vars);
  if (!queue) return new InProcessRunService(opts.inventory, vars, opts.store);
  const deadline = workerDeadlineFrom(vars);
  return new RedisRunService({
    queue,
    inventory: opts.inventory,
    vars,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.afterRun ? { afterRun: opts.afterRun } : {}),
    ...(deadline ? { workerDeadlineMs: deadline } : {}),
  });
}
