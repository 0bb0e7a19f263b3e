/**
 * The bot's run service on Redis: a run client (./run-client.ts) and an assembler
 * (./assembler.ts, with its watchdog and heartbeat) in one process, sharing the runs prepared at
 * submit. `ecebot serve` uses it: the bot holds the full inventory, so it may assemble any run.
 * `ecebot check` uses the client alone and never assembles.
 */
import type { Run } from '../model';
import type { Inventory } from '../inventory/load';
import type { Store } from '../store/types';
import { Assembler, type AfterRun } from './assembler';
import type { QueueConfig } from '../redis/connection';
import { SILENT_QUEUE_LOG, type QueueLog } from './log';
import { PreparedRuns } from './parts';
import { RunClient } from './run-client';
import type { RunHandle, RunProgress, RunRequest, RunService } from './types';

/** Options of the Redis run service. */
export interface RedisRunServiceOptions {
  queue: QueueConfig;
  /** The full inventory, read when a run is submitted or assembled. */
  inventory: () => Inventory;
  /** Where secret references resolve (`env:NAME`). */
  vars?: NodeJS.ProcessEnv;
  /** Finished runs are saved here (history, `status`). */
  store?: Store;
  /** How long a vantage point's part may wait for a worker (default 30 s). */
  workerDeadlineMs?: number;
  /** How often the watchdog looks for overdue runs (default 1 s). */
  watchIntervalMs?: number;
  /** How often the assembler beats (default 5 s). */
  heartbeatMs?: number;
  /**
   * Called once a run is assembled, before it is reported done (alerts for scheduled runs).
   * It must be idempotent: a parent job retried after a crash calls it again.
   */
  afterRun?: AfterRun;
  log?: QueueLog;
}

/** Requests runs through the queue, follows them, and assembles every run of the queue. */
export class RedisRunService implements RunService {
  readonly client: RunClient;
  readonly assembler: Assembler;

  constructor(opts: RedisRunServiceOptions) {
    const log = opts.log ?? SILENT_QUEUE_LOG;
    const prepared = new PreparedRuns(opts.inventory, opts.vars ?? process.env, log, opts.store);
    const shared = {
      queue: opts.queue,
      inventory: opts.inventory,
      ...(opts.vars ? { vars: opts.vars } : {}),
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.workerDeadlineMs ? { workerDeadlineMs: opts.workerDeadlineMs } : {}),
      prepared,
      log,
    };
    this.client = new RunClient(shared);
    this.assembler = new Assembler({
      ...shared,
      ...(opts.watchIntervalMs ? { watchIntervalMs: opts.watchIntervalMs } : {}),
      ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.afterRun ? { afterRun: opts.afterRun } : {}),
    });
  }

  /**
   * Wait until Redis answers and the assembler takes jobs, or throw QueueUnavailableError
   * after `timeoutMs`.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    await this.client.ready(timeoutMs);
    await this.assembler.ready(timeoutMs);
  }

  submit(req: RunRequest): Promise<RunHandle> {
    return this.client.submit(req);
  }

  onProgress(listener: (p: RunProgress) => void): () => void {
    return this.client.onProgress(listener);
  }

  onDone(listener: (run: Run) => void): () => void {
    return this.client.onDone(listener);
  }

  wait(runId: string): Promise<Run> {
    return this.client.wait(runId);
  }

  /** Stop assembling (runs in hand finish first), then stop following. */
  async close(): Promise<void> {
    await this.assembler.close();
    await this.client.close();
  }
}
