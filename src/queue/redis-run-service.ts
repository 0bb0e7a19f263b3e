/**
 * The bot's run service on Redis: a run client (./run-client.ts) and an assembler
 * (./assembler.ts, with its watchdog and heartbeat) in one process, sharing the runs prepared at
 * submit. `ecebot serve` uses it: the bot holds the full inventory, so it may assemble any run.
 * `ecebot check` uses the client alone and never assembles.
 */
import type { Run } from '../model';
import { Assembler, type AssemblerOptions } from './assembler';
import { SILENT_QUEUE_LOG } from './log';
import { PreparedRuns } from './parts';
import { RunClient } from './run-client';
import type { RunHandle, RunProgress, RunRequest, RunService } from './types';

/**
 * Options of the Redis run service: the assembler's (it assembles every run of the queue, with
 * the full inventory), less the runs a client shares with it, which the service wires itself.
 */
export type RedisRunServiceOptions = Omit<AssemblerOptions, 'prepared'>;

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
