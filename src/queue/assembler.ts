/**
 * The assembler: the BullMQ Worker on the `runs` queue. A run's parent job becomes ready once
 * every vantage point's child has finished, failed or been given up on; the assembler then
 * merges the observations, judges them with the same `assemble` as the in-process service,
 * marks vantage points that never reported (NO_WORKER), saves the run, runs `afterRun` (alerts
 * for scheduled runs), writes it to the result key and returns its id and status (./jobs.ts:
 * no personal data in return values), which completes the job and wakes every waiting client.
 *
 * Only a process with the full inventory may assemble: `ecebot serve`, or `ecebot assembler`
 * where no bot runs. A process that cannot judge a run (its inventory lacks the environment)
 * would fail it for everyone, which is why `ecebot check` is a client only (./run-client.ts).
 * Beside the worker it runs the watchdog (./watchdog.ts) and beats (./assembler-heartbeat.ts).
 *
 * Exactly once: the job's lock and BullMQ's stalled check hand a parent whose assembler died
 * (SIGKILL) to another one; every step after the verdict is idempotent (the store keys runs by
 * id, the in-flight key is compare-and-deleted, `afterRun` must be idempotent). The vantage
 * points' parts are deleted last; a parent retried after that finds its result key and returns
 * it instead of judging a run whose observations are gone.
 */
import { hostname } from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Run } from '../model';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import type { Observation } from '../model';
import { factsOf } from '../runner/facts';
import type { PreparedRun } from '../runner/prepare';
import { assemble } from '../runner/run';
import { tryStored } from '../redis/stored';
import { runSchema } from '../store/schemas';
import type { Store } from '../store/types';
import { HEARTBEAT_INTERVAL_MS } from './heartbeat';
import { beatAssembler } from './assembler-heartbeat';
import {
  connect,
  firstConnection,
  type QueueConfig,
  releaseConnections,
} from '../redis/connection';
import { InFlightRegistry } from './in-flight';
import { DEFAULT_WORKER_DEADLINE_MS, type RunDone, type RunJobData } from './jobs';
import { SILENT_QUEUE_LOG, type QueueLog } from './log';
import { withMissing } from './missing';
import { keys, RUNS_QUEUE, streamOptions, vantageId } from './names';
import { dropParts, partsOf, PreparedRuns } from './parts';
import { withScripts, type ScriptedRedis } from './scripts';
import { Watchdog } from './watchdog';

/**
 * Finished runs stay readable by `wait` for an hour: clients read the result as soon as the
 * completed event arrives or their next poll (1 s), and the store keeps the run for history,
 * `share` and bundles. Also how long a finished parent job and its missing-reasons are kept.
 */
export const RESULT_TTL_MS = 3600_000;

/** Called once a run is assembled, before it is reported done. */
export type AfterRun = (
  run: Run,
  ctx: { data: RunJobData; observations: Observation[] },
) => Promise<void>;

/** Options of the assembler. */
export interface AssemblerOptions {
  queue: QueueConfig;
  /** The full inventory: every environment a run may be submitted for. */
  inventory: () => Inventory;
  /** Where secret references resolve (`env:NAME`). */
  vars?: NodeJS.ProcessEnv;
  /** Finished runs are saved here (history, `status`); sign-in tokens are read from it. */
  store?: Store;
  /** How long a vantage point's part may wait for a worker (the watchdog's reason; 30 s). */
  workerDeadlineMs?: number;
  /** How often the watchdog looks for overdue runs (default 1 s). */
  watchIntervalMs?: number;
  /** How often the assembler beats (default 5 s, like workers; live for three beats). */
  heartbeatMs?: number;
  /**
   * Called once a run is assembled, before it is reported done (alerts for scheduled runs).
   * It must be idempotent: a parent job retried after a crash calls it again.
   */
  afterRun?: AfterRun;
  /** Runs prepared by this process's client at submit (shared by `RedisRunService`). */
  prepared?: PreparedRuns;
  log?: QueueLog;
}

/** Assembles the runs of every environment in the inventory. */
export class Assembler {
  /** Stored on every job it assembles (BullMQ `processedBy`), for operators and tests. */
  readonly name = `assembler:${hostname()}:${process.pid}`;
  private readonly producer: ScriptedRedis;
  private readonly follower: Redis;
  private readonly runs: Queue<RunJobData, RunDone>;
  private readonly worker: Worker<RunJobData, RunDone>;
  private readonly watchdog: Watchdog;
  private readonly inFlight: InFlightRegistry;
  private readonly prepared: PreparedRuns;
  private readonly log: QueueLog;
  private readonly beatTimer: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  private closed = false;

  constructor(private readonly opts: AssemblerOptions) {
    this.log = opts.log ?? SILENT_QUEUE_LOG;
    const { prefix } = opts.queue;
    this.producer = withScripts(connect(opts.queue, 'producer'));
    this.follower = connect(opts.queue, 'worker');
    this.runs = new Queue<RunJobData, RunDone>(RUNS_QUEUE, {
      prefix,
      connection: this.producer,
      ...streamOptions,
    });
    this.prepared =
      opts.prepared ??
      new PreparedRuns(opts.inventory, opts.vars ?? process.env, this.log, opts.store);
    this.inFlight = new InFlightRegistry(this.producer, this.runs, this.log);
    this.worker = new Worker<RunJobData, RunDone>(RUNS_QUEUE, job => this.assembleRun(job), {
      prefix,
      connection: this.follower,
      concurrency: 4,
      name: this.name,
    });
    // BullMQ reconnects by itself; the errors are worth a line, not a crash.
    this.runs.on('error', err => this.log.warn({ err }, 'runs queue error'));
    this.worker.on('error', err => this.log.warn({ err }, 'assembler error'));
    this.worker.on('failed', (job, err) =>
      this.log.error({ err, runId: job?.data.runId }, 'run could not be assembled'),
    );
    this.watchdog = new Watchdog({
      redis: this.producer,
      prefix,
      runs: this.runs,
      deadlineMs: opts.workerDeadlineMs ?? DEFAULT_WORKER_DEADLINE_MS,
      intervalMs: opts.watchIntervalMs ?? 1000,
      log: this.log,
    });
    this.heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    this.beatTimer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.beatTimer.unref();
    // Beat as soon as Redis answers, so a client does not wait an interval to see us.
    this.producer.once('ready', () => void this.beat());
  }

  /** Resolve once connected and taking parent jobs (and beating), or after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    await firstConnection(this.producer, timeoutMs);
    await this.worker.waitUntilReady();
    await this.beat();
  }

  private async beat(): Promise<void> {
    // While Redis is away beats cannot be written (producer connection); the next one will.
    if (this.closed || this.producer.status !== 'ready') return;
    try {
      await beatAssembler(
        this.producer,
        this.opts.queue.prefix,
        { at: new Date().toISOString(), host: hostname(), pid: process.pid },
        3 * this.heartbeatMs,
      );
    } catch (err) {
      this.log.warn({ err }, 'assembler heartbeat not written; retrying on the next beat');
    }
  }

  /** The run's id and status when it was assembled before and its parts are already dropped. */
  private async assembledBefore(data: RunJobData): Promise<RunDone | undefined> {
    const { prefix } = this.opts.queue;
    const key = keys.result(prefix, data.runId);
    const raw = await this.producer.get(key);
    if (raw === null) return undefined;
    const parts = await Promise.all(
      data.vantages.map(v =>
        this.producer.exists(keys.part(prefix, vantageId(data.environment, v), data.runId)),
      ),
    );
    if (parts.some(n => n > 0)) return undefined;
    const run = tryStored(runSchema, raw, key, 'a finished run', err =>
      this.log.warn({ err, runId: data.runId }, 'finished run unreadable; assembling again'),
    );
    return run ? { id: run.id, status: run.status } : undefined;
  }

  /** The parent job: merge, judge, mark missing vantage points, save, release the key. */
  private async assembleRun(job: Job<RunJobData, RunDone>): Promise<RunDone> {
    const data = job.data;
    const { prefix } = this.opts.queue;
    // A retry after the last step (the parts dropped) but before BullMQ saw the job complete:
    // the run is assembled and saved, and its observations are gone, so it is not judged again.
    const done = await this.assembledBefore(data);
    if (done) return done;
    let prepared: PreparedRun;
    try {
      prepared = await this.prepared.of(data);
    } catch (err) {
      // This process cannot judge the run (its inventory lacks the environment or a secret):
      // retrying here cannot help, and the `failed` listener logs it.
      const why = err instanceof InputError ? err.describe() : (err as Error).message;
      throw new UnrecoverableError(`cannot assemble ${data.runId}: ${why}`);
    }
    // A vantage point without a child is in `missing` from submit on (partsOf starts from
    // `data.missing`), so every vantage point here either reported or has its reason.
    const { observations, missing } = await partsOf(job, this.producer, prefix, this.log);
    const base = assemble(prepared, observations, new Date(data.submittedAt), new Date());
    const run = withMissing(base, prepared.env, factsOf(prepared.env, prepared.secrets), missing);
    await this.opts.store?.saveRun(run);
    // Released before the result is readable: a request made as soon as `wait` reports this run
    // must start a new run, not join the finished one (and get its result back).
    await this.inFlight.release(data.inFlightKey, data.runId);
    await this.producer.set(keys.result(prefix, run.id), JSON.stringify(run), 'PX', RESULT_TTL_MS);
    await this.opts.afterRun?.(run, { data, observations });
    await this.producer.zrem(keys.watch(prefix), run.id);
    await this.producer.pexpire(keys.missing(prefix, run.id), RESULT_TTL_MS);
    await dropParts(this.producer, prefix, data);
    this.prepared.forget(run.id);
    this.log.info(
      { runId: run.id, environment: run.environment, reason: data.reason, status: run.status },
      'run assembled',
    );
    return { id: run.id, status: run.status };
  }

  /** Stop taking parent jobs; the ones in hand finish first (unless Redis is away). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.beatTimer);
    // With Redis away a graceful close would wait for the reconnection: force it then.
    const away = this.producer.status !== 'ready';
    await this.worker.close(away);
    const closing = Promise.allSettled([this.watchdog.close(), this.runs.close()]);
    if (!away) await closing;
    await releaseConnections([this.producer, this.follower], away, err =>
      this.log.warn({ err }, 'Redis connection did not quit cleanly; dropping it'),
    );
  }
}
