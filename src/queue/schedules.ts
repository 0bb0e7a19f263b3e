/**
 * Scheduled checks with BullMQ job schedulers (BullMQ 6 removed `repeat`): one scheduler per
 * environment whose inventory says `schedule.every`, and one for the daily forecast digest.
 * Upserting is idempotent by scheduler id, so every bot replica may sync at start; the jobs
 * they produce are taken by one worker each, and a run already in flight is joined.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Inventory } from '../inventory/load';
import { connect, type QueueConfig } from '../redis/connection';
import { SILENT_QUEUE_LOG, type QueueLog } from './log';
import { SCHEDULE_QUEUE, streamOptions } from './names';
import type { RunService } from './types';

/** `5m` → 300000 (the inventory's `schedule.every`: s, m, h or d). */
export function everyMs(every: string): number {
  const m = /^(\d+)([smhd])$/.exec(every.trim());
  if (!m) throw new Error(`schedule.every must look like 5m or 1h (got ${JSON.stringify(every)})`);
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Scheduler ids: `env-<name>` per environment, `forecast-digest` for the digest. */
const ENV_SCHEDULER = 'env-';
const DIGEST_SCHEDULER = 'forecast-digest';
/** The digest goes out at 08:00 UTC by default (cron with seconds, as BullMQ reads it). */
const DEFAULT_DIGEST_PATTERN = '0 0 8 * * *';

interface ScheduleJob {
  environment?: string;
}

/** Options of the scheduler. */
export interface SchedulerOptions {
  queue: QueueConfig;
  runs: Pick<RunService, 'submit'>;
  /** Called by the daily digest job with the scheduled environments. */
  onDigest?: (environments: string[], now: Date) => Promise<unknown>;
  digestPattern?: string;
  log?: QueueLog;
}

export class Scheduler {
  private readonly redis: Redis;
  private readonly queue: Queue<ScheduleJob>;
  private worker: Worker<ScheduleJob> | undefined;
  private workerRedis: Redis | undefined;
  private environments: string[] = [];
  private readonly log: QueueLog;

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log ?? SILENT_QUEUE_LOG;
    this.redis = connect(opts.queue, 'producer');
    this.queue = new Queue<ScheduleJob>(SCHEDULE_QUEUE, {
      prefix: opts.queue.prefix,
      connection: this.redis,
      ...streamOptions,
    });
    // BullMQ reconnects by itself; the errors are worth a line, not a crash.
    this.queue.on('error', err => this.log.warn({ err }, 'schedule queue error'));
  }

  /** Make the schedulers match the inventory; returns the scheduled environments. */
  async sync(inv: Inventory): Promise<string[]> {
    const wanted = new Map<string, number>();
    for (const [name, env] of inv.environments)
      if (env.schedule?.every) wanted.set(name, everyMs(env.schedule.every));
    for (const s of await this.queue.getJobSchedulers()) {
      const id = s.key;
      if (id.startsWith(ENV_SCHEDULER) && !wanted.has(id.slice(ENV_SCHEDULER.length)))
        await this.queue.removeJobScheduler(id);
    }
    for (const [name, every] of wanted) {
      await this.queue.upsertJobScheduler(
        `${ENV_SCHEDULER}${name}`,
        { every },
        {
          name: 'scheduled-run',
          data: { environment: name },
          opts: { removeOnComplete: 100, removeOnFail: 100 },
        },
      );
    }
    if (this.opts.onDigest)
      await this.queue.upsertJobScheduler(
        DIGEST_SCHEDULER,
        { pattern: this.opts.digestPattern ?? DEFAULT_DIGEST_PATTERN, tz: 'UTC' },
        { name: 'digest', data: {}, opts: { removeOnComplete: 30, removeOnFail: 30 } },
      );
    this.environments = [...wanted.keys()];
    return this.environments;
  }

  /** Take the scheduled jobs: submit the environment's run (joining one in flight). */
  async start(): Promise<void> {
    if (this.worker) return;
    this.workerRedis = connect(this.opts.queue, 'worker');
    this.worker = new Worker<ScheduleJob>(SCHEDULE_QUEUE, job => this.process(job), {
      prefix: this.opts.queue.prefix,
      connection: this.workerRedis,
      concurrency: 4,
    });
    this.worker.on('error', err => this.log.warn({ err }, 'schedule worker error'));
    this.worker.on('failed', (job, err) =>
      this.log.error({ err, environment: job?.data.environment }, 'scheduled job failed'),
    );
    await this.worker.waitUntilReady();
  }

  private async process(job: Job<ScheduleJob>): Promise<unknown> {
    if (job.name === 'digest') return this.opts.onDigest?.(this.environments, new Date());
    const environment = job.data.environment;
    if (!environment) return undefined;
    return this.opts.runs.submit({
      environment,
      reason: 'schedule',
      requestedBy: { id: 'schedule' },
    });
  }

  async close(): Promise<void> {
    await this.worker?.close(this.workerRedis?.status !== 'ready');
    await this.queue
      .close()
      .catch((err: Error) => this.log.warn({ err }, 'schedule queue did not close cleanly'));
    // A connection that cannot quit (Redis away) is dropped instead.
    for (const c of [this.redis, this.workerRedis]) await c?.quit().catch(() => c.disconnect());
  }
}
