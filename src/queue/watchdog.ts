/**
 * The watchdog: for runs past their worker deadline, give up on children no live worker holds
 * (waiting ones, and active ones whose lock lapsed because their worker died), so the parent
 * runs and reports them NO_WORKER. It runs beside every assembler (`ecebot serve`, `ecebot
 * assembler`): with several, each step is idempotent, and without one no run would finish
 * anyway.
 */
import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { liveness, noWorkerReason } from './heartbeat';
import {
  vantageOfChildKey,
  type RunDone,
  type RunJobData,
  type VantageJobData,
  type VantageResult,
} from './jobs';
import type { QueueLog } from './log';
import { keys, parseVantageId, streamOptions, vantagePrefix, vantageQueue } from './names';

/** Overdue runs looked at per tick. */
const BATCH = 20;

/** Options of the watchdog. */
export interface WatchdogOptions {
  /** A producer connection (fails fast while Redis is away). */
  redis: Redis;
  prefix: string;
  runs: Queue<RunJobData, RunDone>;
  /** How long a vantage point's part may wait for a worker (for the reason it gives). */
  deadlineMs: number;
  /** How often it looks for overdue runs. */
  intervalMs: number;
  log: QueueLog;
}

export class Watchdog {
  private readonly vantageQueues = new Map<string, Queue<VantageJobData, VantageResult>>();
  private readonly timer: NodeJS.Timeout;
  private watching = false;
  private closed = false;
  /** Logged once per outage, not once per tick. */
  private failing = false;

  constructor(private readonly opts: WatchdogOptions) {
    this.timer = setInterval(() => void this.tick(), opts.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.watching || this.closed || this.opts.redis.status !== 'ready') return;
    this.watching = true;
    const { redis, prefix, log } = this.opts;
    try {
      const due = await redis.zrangebyscore(keys.watch(prefix), 0, Date.now(), 'LIMIT', 0, BATCH);
      for (const runId of due) await this.giveUpOverdue(runId);
      this.failing = false;
    } catch (err) {
      // Redis away or a job changed under us: the next tick tries again.
      if (!this.failing) log.warn({ err }, 'watchdog tick failed; retrying on the next one');
      this.failing = true;
    } finally {
      this.watching = false;
    }
  }

  private vantageQueueOf(vantage: string): Queue<VantageJobData, VantageResult> {
    let q = this.vantageQueues.get(vantage);
    if (!q) {
      q = new Queue<VantageJobData, VantageResult>(vantageQueue(vantage), {
        prefix: vantagePrefix(this.opts.prefix),
        connection: this.opts.redis,
        ...streamOptions,
      });
      // Connection errors also reach the connection's own listener (connection.ts) and the tick.
      q.on('error', err => this.opts.log.warn({ err, vantage }, 'vantage queue error'));
      this.vantageQueues.set(vantage, q);
    }
    return q;
  }

  private async giveUpOverdue(runId: string): Promise<void> {
    const { redis, prefix, runs, deadlineMs, log } = this.opts;
    const job = await Job.fromId<RunJobData, RunDone>(runs, runId);
    const state = job ? await job.getState() : 'unknown';
    if (!job || state !== 'waiting-children') {
      if (!job || state === 'completed' || state === 'failed' || state === 'unknown')
        await redis.zrem(keys.watch(prefix), runId);
      return;
    }
    const deps = await job.getDependencies({ unprocessed: { count: 1000 } });
    let gaveUp = false;
    for (const key of deps.unprocessed ?? []) {
      const id = vantageOfChildKey(key, prefix);
      if (!id) continue;
      const vantage = parseVantageId(id).vantage;
      const child = await Job.fromId(this.vantageQueueOf(id), key.slice(key.lastIndexOf(':') + 1));
      if (!child) continue;
      const childState = await child.getState();
      const locked = (await redis.exists(`${key}:lock`)) === 1;
      if (locked) continue; // A live worker holds it; its probes have their own deadlines.
      const [l] = await liveness(redis, prefix, [id]);
      const seen = noWorkerReason({ ...l, vantage });
      const reason =
        childState === 'active'
          ? `the worker for ${vantage} stopped mid-run and none took over (${seen})`
          : l?.live
            ? `the worker for ${vantage} did not start its part within ${Math.round(deadlineMs / 1000)} s`
            : seen;
      await redis.hset(keys.missing(prefix, runId), vantage, reason);
      try {
        await child.remove();
        gaveUp = true;
        log.info({ runId, vantage, reason }, 'gave up on a vantage point');
      } catch (err) {
        // Taken meanwhile (locked) or already gone: the next tick looks again.
        log.info({ err, runId, vantage }, 'part not removable now; looking again next tick');
      }
    }
    if (!gaveUp) return;
    try {
      // Tells the followers (progress) that the run moved; its parent then runs by itself.
      await job.updateProgress({ vantage: 'watchdog' });
    } catch (err) {
      log.warn({ err, runId }, 'could not announce the parts given up on');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    const closed = await Promise.allSettled([...this.vantageQueues.values()].map(q => q.close()));
    for (const c of closed)
      if (c.status === 'rejected') this.opts.log.warn({ err: c.reason }, 'vantage queue close');
  }
}
