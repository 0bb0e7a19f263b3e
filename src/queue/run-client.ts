/**
 * The run client: submits runs to the queue and follows them through Redis. The CLI (`ecebot
 * check` with REDIS_URL) and the bot use it; it never assembles. A run is a BullMQ flow, one
 * parent job (assembly, on `runs`, taken by an assembler: ./assembler.ts) and one child per
 * vantage point on that vantage's own queue (`<prefix>:vantage:ENV/SERVER`, or the shared
 * `<prefix>:vantage:central`), pulled by `ecebot worker --vantage ENV/SERVER` on that ECE server
 * (agents pull work).
 *
 * - Coalescing: the in-flight registry (./in-flight.ts) names the run in flight per environment
 *   and item set; a second request joins it.
 * - Absent workers: a vantage point without a live heartbeat gets no child and its items end
 *   NO_WORKER at once; the rest is the watchdog's (./watchdog.ts), beside every assembler.
 * - Absent assemblers: with `assemblerDeadlineMs`, `wait` gives up once no assembler has beaten
 *   for that long and says which command to start (NoAssemblerError), instead of hanging.
 * - Progress: workers publish a progress event on the parent; every replica sees it through
 *   QueueEvents, and exactly one (holding a short Redis lease per run) emits it to its
 *   listeners, so with several bot replicas one updates a given card.
 * - Results: the completed event carries the run's id and status only (./jobs.ts); the run
 *   itself is read from its result key and checked (../store/schemas.ts) before anyone sees it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { FlowProducer, Job, Queue, QueueEvents, type FlowJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Run } from '../model';
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import { factsOf } from '../runner/facts';
import { prepareRun, vantagesOf, type PreparedRun } from '../runner/prepare';
import { readyItems } from '../runner/progress';
import { assemble } from '../runner/run';
import { parseStored, StoredDataError, tryStored } from '../redis/stored';
import { runSchema } from '../store/schemas';
import type { Store } from '../store/types';
import { liveness, noWorkerReason } from './heartbeat';
import { assemblerLiveness, type AssemblerLiveness } from './assembler-heartbeat';
import {
  connect,
  describeUrl,
  ensureReady,
  firstConnection,
  guardRedis,
  releaseConnections,
  type QueueConfig,
} from '../redis/connection';
import { InFlightRegistry } from './in-flight';
import {
  DEFAULT_WORKER_DEADLINE_MS,
  runDoneSchema,
  type RunDone,
  type RunJobData,
  type VantageJobData,
} from './jobs';
import { SILENT_QUEUE_LOG, type QueueLog } from './log';
import { RESULT_TTL_MS } from './assembler';
import { NoAssemblerError } from './no-assembler';
import { withMissing } from './missing';
import { keys, RUNS_QUEUE, streamOptions, vantageId, vantagePrefix, vantageQueue } from './names';
import { partsOf, PreparedRuns } from './parts';
import { withScripts, type ScriptedRedis } from './scripts';
import {
  RunBusyError,
  type RunHandle,
  type RunProgress,
  type RunRequest,
  type RunService,
} from './types';

/** A run's owner lease; refreshed by the owner on every event, taken over when it lapses. */
const OWNER_TTL_MS = 60_000;
/** How often `wait` polls besides listening (events can be missed across a reconnect). */
const POLL_MS = 1000;

/** Options of the run client. */
// Declared on its own (no BullMQ) so the CLI can recognise it without loading the queue.
export { NoAssemblerError };

export interface RunClientOptions {
  queue: QueueConfig;
  /** The inventory, read when a run is submitted and for progress. */
  inventory: () => Inventory;
  /** Where secret references resolve (`env:NAME`). */
  vars?: NodeJS.ProcessEnv;
  /** Where refresh tokens from Teams sign-ins are read (they change what a run may check). */
  store?: Pick<Store, 'getSecret'>;
  /** How long a vantage point's part may wait for a worker (default 30 s). */
  workerDeadlineMs?: number;
  /**
   * Give up waiting once no assembler has been alive for this long (NoAssemblerError). Unset:
   * wait as long as the run is in the queue (the bot, whose own assembler is in-process).
   */
  assemblerDeadlineMs?: number;
  /** Runs prepared here, shared with an assembler in the same process. */
  prepared?: PreparedRuns;
  log?: QueueLog;
}

interface Waiter {
  resolve: (run: Run) => void;
  reject: (err: Error) => void;
}

/** Submits runs through the queue and follows them through Redis events. */
export class RunClient implements RunService {
  private readonly id = randomUUID();
  private readonly events = new EventEmitter();
  private readonly producer: ScriptedRedis;
  /** The connection QueueEvents blocks on (BullMQ does not close one it was handed). */
  private readonly follower: Redis;
  private readonly runs: Queue<RunJobData, RunDone>;
  private readonly flow: FlowProducer;
  private readonly queueEvents: QueueEvents;
  private readonly inFlight: InFlightRegistry;
  private readonly prepared: PreparedRuns;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly deadlineMs: number;
  private readonly vars: NodeJS.ProcessEnv;
  private readonly log: QueueLog;
  private closed = false;

  constructor(private readonly opts: RunClientOptions) {
    this.events.setMaxListeners(0);
    this.log = opts.log ?? SILENT_QUEUE_LOG;
    this.vars = opts.vars ?? process.env;
    this.deadlineMs = opts.workerDeadlineMs ?? DEFAULT_WORKER_DEADLINE_MS;
    const { prefix } = opts.queue;
    this.producer = withScripts(connect(opts.queue, 'producer'));
    this.runs = new Queue<RunJobData, RunDone>(RUNS_QUEUE, {
      prefix,
      connection: this.producer,
      ...streamOptions,
    });
    this.flow = new FlowProducer({ prefix, connection: this.producer });
    this.follower = connect(opts.queue, 'worker');
    this.queueEvents = new QueueEvents(RUNS_QUEUE, { prefix, connection: this.follower });
    this.inFlight = new InFlightRegistry(this.producer, this.runs, this.log);
    this.prepared =
      opts.prepared ?? new PreparedRuns(opts.inventory, this.vars, this.log, opts.store);
    // Connection errors surface through `submit` (QueueUnavailableError) and `wait`'s polling;
    // BullMQ reconnects. Logged as warnings, for the operator.
    this.runs.on('error', err => this.log.warn({ err }, 'runs queue error'));
    this.flow.on('error', err => this.log.warn({ err }, 'flow producer error'));
    this.queueEvents.on('error', err => this.log.warn({ err }, 'queue events error'));
    this.queueEvents.on('progress', ({ jobId }) => void this.onProgressEvent(jobId));
    this.queueEvents.on(
      'completed',
      ({ jobId, returnvalue }) => void this.onCompleted(jobId, returnvalue as unknown),
    );
    this.queueEvents.on('failed', ({ jobId }) => void this.onFailedEvent(jobId));
  }

  /**
   * Wait until Redis answers (a CLI run starts right after construction), or throw
   * QueueUnavailableError after `timeoutMs`.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    await firstConnection(this.producer, timeoutMs);
    ensureReady(this.producer, this.opts.queue.url);
    await this.queueEvents.waitUntilReady();
  }

  /** Whether an assembler (`ecebot serve` or `ecebot assembler`) beats on this queue. */
  assemblers(): Promise<AssemblerLiveness> {
    return guardRedis(this.producer, this.opts.queue.url, () =>
      assemblerLiveness(this.producer, this.opts.queue.prefix),
    );
  }

  async submit(req: RunRequest): Promise<RunHandle> {
    const inv = this.opts.inventory();
    const env = pickEnvironment(inv, req.environment, 'the request');
    const stored = await this.prepared.storedTokens(env);
    // Input problems (unknown item, missing secret, bad CA file) throw here, before anything queues.
    const prepared = prepareRun(env, inv, {
      ...(req.items?.length ? { items: req.items } : {}),
      vars: this.vars,
      ...(stored ? { storedRefreshTokens: stored } : {}),
    });
    const { prefix } = this.opts.queue;
    const inFlightKey = keys.inFlight(prefix, env.name);
    return guardRedis(this.producer, this.opts.queue.url, async () => {
      const claim = await this.inFlight.claim(
        inFlightKey,
        prepared.id,
        prepared.items,
        this.deadlineMs + 15 * 60_000,
      );
      if ('joined' in claim) return { runId: claim.joined, joined: true };
      if ('busy' in claim) throw new RunBusyError(env.name, claim.busy.runId, claim.busy.items);
      try {
        await this.addFlow(req, prepared, inFlightKey);
      } catch (err) {
        await this.inFlight.abandon(inFlightKey, claim.claimed);
        throw err;
      }
      this.prepared.remember(prepared);
      void this.onProgressEvent(prepared.id);
      return { runId: prepared.id, joined: false };
    });
  }

  private async addFlow(req: RunRequest, run: PreparedRun, inFlightKey: string): Promise<void> {
    const { prefix } = this.opts.queue;
    const vantages = vantagesOf(run);
    // Each server's queue is its environment's own (ENV/SERVER); `central` is shared.
    const ids = vantages.map(v => vantageId(run.env.name, v));
    const live = await liveness(this.producer, prefix, ids);
    const missing: Record<string, string> = {};
    live.forEach((l, i) => {
      // The card speaks of the server by its inventory name; the fix names its queue.
      if (!l.live) missing[vantages[i]!] = noWorkerReason({ ...l, vantage: vantages[i]! });
    });
    const data: RunJobData = {
      runId: run.id,
      environment: run.env.name,
      items: run.items,
      reason: req.reason,
      ...(req.requestedBy ? { requestedBy: req.requestedBy } : {}),
      submittedAt: new Date().toISOString(),
      missing,
      vantages,
      inFlightKey,
    };
    const children: FlowJob[] = vantages
      .filter((_, i) => live[i]!.live)
      .map(vantage => ({
        name: 'observe',
        queueName: vantageQueue(vantageId(run.env.name, vantage)),
        prefix: vantagePrefix(prefix),
        data: {
          runId: run.id,
          environment: run.env.name,
          items: run.items,
          vantage,
        } satisfies VantageJobData,
        opts: {
          // A failed child must not fail the run: the parent reports it as that vantage's error.
          ignoreDependencyOnFailure: true,
          // Its return value is a name and a count (./jobs.ts); nothing reads it after the parent
          // is assembled, which a finished child's parent becomes at once.
          removeOnComplete: { age: 600, count: 1000 },
          removeOnFail: { age: 24 * 3600 },
        },
      }));
    await this.flow.add({
      name: 'run',
      queueName: RUNS_QUEUE,
      prefix,
      data,
      opts: {
        jobId: run.id,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        // As long as its result key (RESULT_TTL_MS): `wait` tells a finished run from a lost one.
        removeOnComplete: { age: RESULT_TTL_MS / 1000, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
      children,
    });
    await this.producer.zadd(keys.watch(prefix), Date.now() + this.deadlineMs, run.id);
  }

  /** Take or keep the owner lease of a run; only the owner emits its events. */
  private async own(runId: string): Promise<boolean> {
    const r = await this.producer.ecebotHoldLease(
      keys.owner(this.opts.queue.prefix, runId),
      this.id,
      String(OWNER_TTL_MS),
    );
    return r === 1;
  }

  private async onProgressEvent(runId: string): Promise<void> {
    if (this.closed || !this.events.listenerCount('progress')) return;
    try {
      if (!(await this.own(runId))) return;
      const job = await Job.fromId<RunJobData, RunDone>(this.runs, runId);
      if (!job) return;
      const run = await this.prepared.of(job.data);
      const { observations, reported, missing } = await partsOf(
        job,
        this.producer,
        this.opts.queue.prefix,
        this.log,
      );
      const ready = readyItems(run.env, run.items, reported);
      let findings: RunProgress['findings'] = [];
      if (ready.length) {
        const partial = assemble(
          { ...run, items: ready },
          observations,
          new Date(job.data.submittedAt),
          new Date(),
        );
        findings = withMissing(partial, run.env, factsOf(run.env, run.secrets), missing).findings;
      }
      const p: RunProgress = {
        runId,
        environment: job.data.environment,
        items: job.data.items,
        reported: job.data.vantages.filter(v => reported.has(v)),
        pending: job.data.vantages.filter(v => !reported.has(v)),
        findings,
      };
      this.events.emit('progress', p);
    } catch (err) {
      // Progress is best effort: the done event and `wait` carry the result.
      this.log.warn({ err, runId }, 'progress not reported');
    }
  }

  private async onCompleted(runId: string, value: unknown): Promise<void> {
    const key = `${this.opts.queue.prefix}:runs:events completed ${runId}`;
    const done = tryStored(
      runDoneSchema,
      typeof value === 'string' ? value : JSON.stringify(value ?? null),
      key,
      'a completed event',
      // Not a run of ours (another job on the queue); `wait` reads the stored result anyway.
      err => this.log.warn({ err, runId }, 'completed event without a readable run'),
    );
    if (!done || done.id !== runId) return;
    let run: Run | undefined;
    try {
      run = await this.result(runId);
    } catch (err) {
      // Unreadable or tampered: `wait`'s polling reads it again and reports the error.
      this.log.warn({ err, runId }, 'finished run not read; polling will');
      return;
    }
    if (!run) return;
    this.settle(runId, run);
    this.prepared.forget(runId);
    if (!this.events.listenerCount('done')) return;
    const mine = await this.own(runId).catch((err: Error) => {
      this.log.warn({ err, runId }, 'done event not reported');
      return false;
    });
    if (mine) this.events.emit('done', run);
  }

  /**
   * The finished run from its result key, checked; undefined when there is none (yet, or any
   * more). Throws StoredDataError when the value is not a run.
   */
  private async result(runId: string): Promise<Run | undefined> {
    const key = keys.result(this.opts.queue.prefix, runId);
    const raw = await this.producer.get(key);
    if (raw === null) return undefined;
    const run = parseStored(runSchema, raw, key, 'a finished run');
    if (run.id !== runId) throw new StoredDataError(key, 'a finished run', `it is run ${run.id}`);
    return run;
  }

  private async onFailedEvent(runId: string): Promise<void> {
    try {
      const job = await Job.fromId<RunJobData, RunDone>(this.runs, runId);
      if (job && (await job.getState()) === 'failed')
        this.fail(runId, new Error(`run ${runId} failed: ${job.failedReason}`));
    } catch (err) {
      // The polling in `wait` catches it later.
      this.log.warn({ err, runId }, 'failed event not read; polling will');
    }
  }

  private settle(runId: string, run: Run): void {
    const ws = this.waiters.get(runId);
    this.waiters.delete(runId);
    for (const w of ws ?? []) w.resolve(run);
  }

  private fail(runId: string, err: Error): void {
    const ws = this.waiters.get(runId);
    this.waiters.delete(runId);
    for (const w of ws ?? []) w.reject(err);
  }

  onProgress(listener: (p: RunProgress) => void): () => void {
    this.events.on('progress', listener);
    return () => this.events.off('progress', listener);
  }

  onDone(listener: (run: Run) => void): () => void {
    this.events.on('done', listener);
    return () => this.events.off('done', listener);
  }

  wait(runId: string): Promise<Run> {
    return new Promise<Run>((resolve, reject) => {
      const { prefix, url } = this.opts.queue;
      const w: Waiter = {
        resolve: r => {
          clearInterval(timer);
          resolve(r);
        },
        reject: e => {
          clearInterval(timer);
          reject(e);
        },
      };
      let set = this.waiters.get(runId);
      if (!set) this.waiters.set(runId, (set = new Set()));
      set.add(w);
      // Events can be missed (a reconnect, a run that finished before we listened): poll too.
      let unknown = 0;
      const since = Date.now();
      let assemblerSeenAt = since;
      let failing = false;
      const poll = async () => {
        if (this.producer.status !== 'ready') return;
        try {
          let stored: Run | undefined;
          try {
            stored = await this.result(runId);
          } catch (err) {
            // A tampered or garbled result cannot be shown: say so rather than wait forever.
            if (err instanceof StoredDataError) return this.fail(runId, err);
            throw err;
          }
          if (stored) return this.settle(runId, stored);
          const state = await this.runs.getJobState(runId);
          // Twice in a row neither a result nor a job: Redis lost the run (restarted without
          // persistence, or flushed). Say so instead of waiting forever.
          unknown = state === 'unknown' ? unknown + 1 : 0;
          if (unknown >= 2)
            return this.fail(
              runId,
              new Error(
                `run ${runId} is no longer in the queue (Redis lost it: restarted without persistence?); run the check again`,
              ),
            );
          if (state === 'failed') {
            const job = await Job.fromId(this.runs, runId);
            return this.fail(
              runId,
              new Error(`run ${runId} failed: ${job?.failedReason ?? 'unknown'}`),
            );
          }
          const deadline = this.opts.assemblerDeadlineMs;
          if (deadline !== undefined) {
            const a = await assemblerLiveness(this.producer, prefix);
            if (a.live) assemblerSeenAt = Date.now();
            else if (Date.now() - assemblerSeenAt >= deadline)
              this.fail(
                runId,
                new NoAssemblerError(
                  runId,
                  describeUrl(url),
                  prefix,
                  Date.now() - since,
                  a.lastSeen,
                ),
              );
          }
          failing = false;
        } catch (err) {
          // Try again on the next tick.
          if (!failing) this.log.warn({ err, runId }, 'could not look at the run; retrying');
          failing = true;
        }
      };
      const timer = setInterval(() => void poll(), POLL_MS);
      void poll();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [runId] of this.waiters) this.fail(runId, new Error('run service closed'));
    // With Redis away a graceful close would wait for the reconnection: force it then.
    const away = this.producer.status !== 'ready';
    const closing = Promise.allSettled([
      this.queueEvents.close(),
      this.flow.close(),
      this.runs.close(),
    ]);
    // QueueEvents' close waits for its connection's `end`, which ioredis never emits for a
    // connection between reconnection attempts: drop the connections instead of waiting.
    if (!away) await closing;
    await releaseConnections([this.producer, this.follower], away, err =>
      this.log.warn({ err }, 'Redis connection did not quit cleanly; dropping it'),
    );
  }
}
