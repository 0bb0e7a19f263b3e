/**
 * The worker on one ECE server (or `central`): pulls its own vantage queue, runs exactly what
 * the in-process runner runs for that vantage (`observeFrom`), writes the observations to the
 * run's part key for the assembler and returns only how many there were (../queue/jobs.ts:
 * return values and events carry no personal data).
 * It reads the inventory and the secrets itself; job data never carries a secret.
 *
 * It must run on a Windows ECE server with plain Node 20: no native module, no shell. BullMQ's
 * optional native msgpack accelerator is not needed (msgpackr falls back to JavaScript).
 */
import { hostname } from 'node:os';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { InputError } from '../inventory/errors';
import { pickEnvironment, type Inventory } from '../inventory/load';
import { connect, type QueueConfig } from '../redis/connection';
import {
  PART_TTL_MS,
  type RunProgressEvent,
  type VantageJobData,
  type VantagePart,
  type VantageResult,
} from '../queue/jobs';
import { keys, RUNS_QUEUE, streamOptions, vantagePrefix, vantageQueue } from '../queue/names';
import type { Environment } from '../inventory/types';
import type { KeepRefreshToken, StoredRefreshTokens } from '../store/tokens';
import type * as Observe from '../runner/observe';
import { parseItems, prepareRun, vantagesOf } from '../runner/prepare';
import type * as SecretsNeeded from '../runner/secrets-needed';
import { beat, HEARTBEAT_INTERVAL_MS, HEARTBEAT_TTL_MS } from '../queue/heartbeat';
import { resolveWorkerVantage, type WorkerVantage } from './identity';

/**
 * The runner and its probes (msal, imapflow, nodemailer), loaded with the first job: an idle
 * worker holds only BullMQ and its Redis connections, and a `central` worker never loads the
 * mail probes at all (src/runner/reads/mailbox.ts).
 */
let observeModule: Promise<typeof Observe> | undefined;
const observe = (): Promise<typeof Observe> => (observeModule ??= import('../runner/observe'));
/** What a vantage's reads need (the read declarations, which import their probes). */
let needsModule: Promise<typeof SecretsNeeded> | undefined;
const needsOf = (): Promise<typeof SecretsNeeded> =>
  (needsModule ??= import('../runner/secrets-needed'));

/** Options of a vantage worker. */
export interface VantageWorkerOptions {
  /**
   * `ENV/SERVER`, `central`, or a bare server name that only one environment has (see
   * ./identity.ts); resolved against the inventory when the worker is made.
   */
  vantage: string;
  /** Refresh tokens ecebot keeps itself (Teams sign-in, rotated successors), read when a job starts. */
  storedTokens?: (env: Environment) => Promise<StoredRefreshTokens>;
  /** Where the refresh tokens Entra rotates to are kept, so the next run redeems the newest. */
  keepTokens?: KeepRefreshToken;
  queue: QueueConfig;
  /** The inventory, read for every job so an edited file applies without a restart. */
  inventory: () => Inventory;
  /** Where secret references resolve (`env:NAME`). */
  vars?: NodeJS.ProcessEnv;
  /** Jobs at once (runs of different environments); default 4. */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal; a killed worker's job is retried by another
   * worker of the same vantage after about this long (BullMQ stalled-job check). Default 30 s.
   */
  lockMs?: number;
  /** How often the worker beats (default 5 s; live for three beats). */
  heartbeatMs?: number;
  /** One line per event, for the console (no secrets: names and codes only). */
  log?: (line: string) => void;
  /**
   * Errors with their objects, for a structured log (the command's pino logger, which redacts
   * src/util/log-redact.ts's paths): a connection error or a part that failed.
   */
  onError?: (err: Error, context: { vantage: string; runId?: string }) => void;
}

/** A running vantage worker. */
export class VantageWorker {
  private readonly worker: Worker<VantageJobData, VantageResult>;
  private readonly runs: Queue;
  /** This vantage's own queue, opened only to write its meta (the bounded event stream). */
  private readonly own: Queue;
  private readonly redis: Redis;
  private readonly beatTimer: NodeJS.Timeout;
  private readonly log: (line: string) => void;
  /** The vantage this worker serves (queue identity, environment, server name). */
  readonly serves: WorkerVantage;

  /** Throws InputError for an unknown or ambiguous `vantage` (nothing connects then). */
  constructor(private readonly opts: VantageWorkerOptions) {
    this.log = opts.log ?? (() => {});
    this.serves = resolveWorkerVantage(opts.inventory(), opts.vantage);
    const lockMs = opts.lockMs ?? 30_000;
    this.redis = connect(opts.queue, 'worker');
    this.runs = new Queue(RUNS_QUEUE, { prefix: opts.queue.prefix, connection: this.redis });
    // The worker writes this queue's `completed` events: BullMQ trims them to the maxLen in the
    // queue's meta, which a Queue writes when opened.
    this.own = new Queue(vantageQueue(this.serves.id), {
      prefix: vantagePrefix(opts.queue.prefix),
      connection: this.redis,
      ...streamOptions,
    });
    this.own.on('error', () => {});
    this.worker = new Worker<VantageJobData, VantageResult>(
      vantageQueue(this.serves.id),
      job => this.process(job),
      {
        prefix: vantagePrefix(opts.queue.prefix),
        connection: this.redis,
        concurrency: opts.concurrency ?? 4,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        // One stall (a killed worker) is retried by another worker; a second fails the part.
        maxStalledCount: 1,
      },
    );
    this.worker.on('error', err => {
      this.log(`worker error: ${err.message}`);
      opts.onError?.(err, { vantage: this.serves.id });
    });
    this.runs.on('error', () => {});
    this.worker.on('completed', job => void this.tellParent(job));
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      this.log(`run ${job.data.runId}: ${this.serves.id} failed: ${err.message}`);
      opts.onError?.(err, { vantage: this.serves.id, runId: job.data.runId });
      if (job.finishedOn) void this.tellParent(job);
    });
    const every = opts.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    this.beatTimer = setInterval(() => void this.beat(3 * every), every);
    this.beatTimer.unref();
  }

  /** Connect, beat once and start pulling; resolves when the worker takes jobs. */
  async start(): Promise<void> {
    await this.worker.waitUntilReady();
    await this.own.waitUntilReady();
    await this.beat(3 * (this.opts.heartbeatMs ?? HEARTBEAT_INTERVAL_MS));
  }

  private async beat(ttlMs = HEARTBEAT_TTL_MS): Promise<void> {
    // While Redis is away beats would only pile up in the offline queue; skip them.
    if (this.redis.status !== 'ready') return;
    try {
      await beat(
        this.redis,
        this.opts.queue.prefix,
        {
          vantage: this.serves.id,
          at: new Date().toISOString(),
          host: hostname(),
          pid: process.pid,
        },
        ttlMs,
      );
    } catch (err) {
      // The next beat tries again; a worker that cannot beat looks absent, so say why.
      this.log(`heartbeat of ${this.serves.id} not written: ${(err as Error).message}`);
    }
  }

  /** One child job: this vantage's observations for a run. */
  private async process(job: Job<VantageJobData, VantageResult>): Promise<VantageResult> {
    const { runId, environment, items, vantage } = job.data;
    // The queue is this vantage's alone; a job of another environment or server in it was put
    // there by hand or by a bug, and is refused rather than probed from the wrong network.
    const mine = this.serves;
    if (vantage !== mine.vantage || (mine.environment && environment !== mine.environment))
      throw new UnrecoverableError(
        `job for ${environment}/${vantage} reached the worker of ${mine.id}`,
      );
    const { secretsNeeded } = await needsOf();
    let prepared;
    try {
      const inv = this.opts.inventory();
      const env = pickEnvironment(inv, environment, 'the queued run');
      // Tokens from a Teams sign-in are redeemed here, on the server, as ECE would; a vantage
      // point whose reads redeem none (central) does not fetch them.
      const needs = secretsNeeded(env, parseItems(items), vantage);
      const redeems = needs.has('refreshTokens');
      const stored =
        redeems && this.opts.storedTokens ? await this.opts.storedTokens(env) : undefined;
      prepared = {
        ...prepareRun(env, inv, {
          items,
          // Only the secrets this vantage point's reads need (docs/security.md, least privilege).
          needs,
          vars: this.opts.vars ?? process.env,
          ...(stored ? { storedRefreshTokens: stored } : {}),
          ...(this.opts.keepTokens ? { keepRefreshTokens: this.opts.keepTokens } : {}),
        }),
        id: runId,
      };
    } catch (err) {
      // Bad input on this server (its inventory or a secret): retrying cannot help.
      const why = err instanceof InputError ? err.describe() : (err as Error).message;
      throw new UnrecoverableError(`inventory on ${hostname()}: ${why}`);
    }
    if (!vantagesOf(prepared).includes(vantage))
      throw new UnrecoverableError(`${vantage} is not a server of environment ${environment}`);
    this.log(`run ${runId}: observing ${environment} from ${vantage}`);
    const observations = await (await observe()).observeFrom(prepared, vantage);
    // Written before the job completes, so the part is there when the parent becomes ready.
    const part: VantagePart = { runId, vantage, observations };
    await this.redis.set(
      keys.part(this.opts.queue.prefix, mine.id, runId),
      JSON.stringify(part),
      'PX',
      PART_TTL_MS,
    );
    this.log(`run ${runId}: ${observations.length} observations from ${vantage}`);
    return {
      vantage,
      observed: observations.length,
      worker: { host: hostname(), pid: process.pid },
    };
  }

  /** A progress event on the parent, so the bot can update the card as parts arrive. */
  private async tellParent(job: Job<VantageJobData, VantageResult>): Promise<void> {
    if (!job.parentKey) return;
    const parentId = job.parentKey.slice(job.parentKey.lastIndexOf(':') + 1);
    try {
      const parent = await Job.fromId(this.runs, parentId);
      const ev: RunProgressEvent = { vantage: this.serves.vantage };
      await parent?.updateProgress(ev as unknown as object);
    } catch (err) {
      // Best effort: the parent's completion carries the result anyway.
      this.log(`progress of ${this.serves.id} not published: ${(err as Error).message}`);
    }
  }

  /** Stop taking jobs, let active ones finish, then disconnect. */
  async close(): Promise<void> {
    clearInterval(this.beatTimer);
    // With Redis away a graceful close would wait for the reconnection: force it then.
    await this.worker.close(this.redis.status !== 'ready');
    await this.runs.close().catch(() => {});
    await this.own.close().catch(() => {});
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
