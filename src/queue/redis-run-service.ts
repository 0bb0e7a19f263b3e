/**
 * The run service on Redis: a run is a BullMQ flow, one parent job (assembly, on `runs`) and
 * one child per vantage point on that vantage's own queue (`<prefix>:vantage:<name>`), pulled by
 * `ecebot worker --vantage NAME` on that ECE server (anchors.md, style lesson 12: agents pull
 * work). The parent runs once every child has finished, failed or been given up on, and judges
 * the merged observations with the same `assemble` as the in-process service.
 *
 * - Coalescing: a Redis key per environment and item set holds the run in flight; a second
 *   request joins it.
 * - Absent workers: a vantage point without a live heartbeat gets no child and its items end
 *   NO_WORKER at once; a child that no worker holds when the worker deadline passes is removed by
 *   the watchdog (any replica) and reported the same way, so the run always finishes.
 * - Progress: workers publish a progress event on the parent; every replica sees it through
 *   QueueEvents, and exactly one (holding a short Redis lock per run) emits it to its
 *   listeners, so with several bot replicas one updates a given card.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  FlowProducer,
  Job,
  Queue,
  QueueEvents,
  UnrecoverableError,
  Worker,
  type FlowJob,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Run } from '../checklist/types';
import { InputError } from '../inventory/errors';
import type { Inventory } from '../inventory/load';
import { pickEnvironment } from '../inventory/load';
import type { Environment } from '../inventory/types';
import type { Observation } from '../probes/types';
import { factsOf } from '../runner/facts';
import { prepareRun, vantagesOf, type PreparedRun } from '../runner/prepare';
import { readyItems } from '../runner/progress';
import { assemble } from '../runner/run';
import { storedRefreshTokens } from '../store/tokens';
import type { Store } from '../store/types';
import { liveness, noWorkerReason } from '../worker/heartbeat';
import { connect, ensureReady, firstConnection, guardRedis, type QueueConfig } from './connection';
import {
  vantageOfChildKey,
  type RunJobData,
  type VantageJobData,
  type VantageResult,
} from './jobs';
import { withMissing } from './missing';
import { keys, RUNS_QUEUE, vantagePrefix, vantageQueue } from './names';
import type { RunHandle, RunProgress, RunRequest, RunService } from './types';

/** How long a vantage point's part may wait for a worker by default. */
const DEFAULT_WORKER_DEADLINE_MS = 30_000;
/** Finished runs stay readable by `wait` for a day (the store keeps history longer). */
const RESULT_TTL_MS = 24 * 3600_000;
/** A run's owner lock; refreshed by the owner on every event, taken over when it lapses. */
const OWNER_TTL_MS = 60_000;
/** An in-flight key that names no job yet is trusted this long (the flow is being added). */
const IN_FLIGHT_GRACE_MS = 10_000;

/** Options of the Redis run service. */
export interface RedisRunServiceOptions {
  queue: QueueConfig;
  /** The inventory, read when a run is submitted or assembled. */
  inventory: () => Inventory;
  /** Where secret references resolve (`env:NAME`). */
  vars?: NodeJS.ProcessEnv;
  /** Finished runs are saved here (history, `status`). */
  store?: Store;
  /** How long a vantage point's part may wait for a worker (default 30 s). */
  workerDeadlineMs?: number;
  /** How often the watchdog looks for overdue runs (default 1 s). */
  watchIntervalMs?: number;
  /**
   * Called once a run is assembled, before it is reported done (alerts for scheduled runs).
   * It must be idempotent: a parent job retried after a crash calls it again.
   */
  afterRun?: (run: Run, ctx: { data: RunJobData; observations: Observation[] }) => Promise<void>;
}

// Atomic "join or claim" of the in-flight key: returns the holder, or nil after claiming it.
const CLAIM_IN_FLIGHT = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
// Compare-and-set / compare-and-delete, so a finished run never clears a newer run's key.
const REPLACE_IF = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
  return 1
end
return 0`;
// Owner lock: keep it if ours, take it if free.
const CLAIM_OWNER = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

interface InFlightValue {
  runId: string;
  at: number;
}

interface Waiter {
  resolve: (run: Run) => void;
  reject: (err: Error) => void;
}

/** Requests runs through the queue and follows them through Redis events. */
export class RedisRunService implements RunService {
  private readonly id = randomUUID();
  private readonly events = new EventEmitter();
  private readonly producer: Redis;
  /** Connections BullMQ was handed (it does not close a connection it did not create). */
  private readonly followers: Redis[];
  private readonly runs: Queue<RunJobData, Run>;
  private readonly flow: FlowProducer;
  private readonly queueEvents: QueueEvents;
  private readonly assembler: Worker<RunJobData, Run>;
  private readonly vantageQueues = new Map<string, Queue<VantageJobData, VantageResult>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly prepared = new Map<string, PreparedRun>();
  private readonly deadlineMs: number;
  private readonly vars: NodeJS.ProcessEnv;
  private readonly watchTimer: NodeJS.Timeout;
  private watching = false;
  private closed = false;

  constructor(private readonly opts: RedisRunServiceOptions) {
    this.events.setMaxListeners(0);
    this.vars = opts.vars ?? process.env;
    this.deadlineMs = opts.workerDeadlineMs ?? DEFAULT_WORKER_DEADLINE_MS;
    const { prefix } = opts.queue;
    this.producer = connect(opts.queue, 'producer');
    this.runs = new Queue<RunJobData, Run>(RUNS_QUEUE, { prefix, connection: this.producer });
    this.flow = new FlowProducer({ prefix, connection: this.producer });
    this.followers = [connect(opts.queue, 'worker'), connect(opts.queue, 'worker')];
    this.queueEvents = new QueueEvents(RUNS_QUEUE, { prefix, connection: this.followers[0]! });
    this.assembler = new Worker<RunJobData, Run>(RUNS_QUEUE, job => this.assembleRun(job), {
      prefix,
      connection: this.followers[1]!,
      concurrency: 4,
    });
    for (const emitter of [this.runs, this.flow, this.queueEvents, this.assembler]) {
      // Connection errors surface through `submit` (QueueUnavailableError); BullMQ reconnects.
      (emitter as unknown as EventEmitter).on('error', () => {});
    }
    this.queueEvents.on('progress', ({ jobId }) => void this.onProgressEvent(jobId));
    this.queueEvents.on('completed', ({ jobId, returnvalue }) =>
      this.onCompleted(jobId, returnvalue as unknown),
    );
    this.queueEvents.on('failed', ({ jobId }) => void this.onFailedEvent(jobId));
    this.watchTimer = setInterval(() => void this.watch(), opts.watchIntervalMs ?? 1000);
    this.watchTimer.unref();
  }

  /**
   * Wait until Redis answers (a CLI run starts right after construction), or throw
   * QueueUnavailableError after `timeoutMs`.
   */
  async ready(timeoutMs = 5000): Promise<void> {
    await firstConnection(this.producer, timeoutMs);
    ensureReady(this.producer, this.opts.queue.url);
    await Promise.all([this.queueEvents.waitUntilReady(), this.assembler.waitUntilReady()]);
  }

  async submit(req: RunRequest): Promise<RunHandle> {
    const inv = this.opts.inventory();
    const env = pickEnvironment(inv, req.environment, 'the request');
    const stored = await this.storedTokens(env);
    // Input problems (unknown item, missing secret, bad CA file) throw here, before anything queues.
    const prepared = prepareRun(env, inv, {
      ...(req.items?.length ? { items: req.items } : {}),
      vars: this.vars,
      ...(stored ? { storedRefreshTokens: stored } : {}),
    });
    const { prefix } = this.opts.queue;
    const inFlightKey = keys.inFlight(prefix, env.name, prepared.items);
    return guardRedis(this.producer, this.opts.queue.url, async () => {
      const claim = await this.claimInFlight(inFlightKey, prepared.id);
      if ('joined' in claim) return { runId: claim.joined, joined: true };
      try {
        await this.addFlow(req, prepared, inFlightKey);
      } catch (err) {
        await this.producer
          .eval(REPLACE_IF, 1, inFlightKey, claim.claimed, '', '0')
          .catch(() => {});
        throw err;
      }
      this.prepared.set(prepared.id, prepared);
      void this.onProgressEvent(prepared.id);
      return { runId: prepared.id, joined: false };
    });
  }

  /**
   * Claim the in-flight key for `runId` (answering the value written, which a failed submit
   * compares to release it), or return the run already holding it.
   */
  private async claimInFlight(
    key: string,
    runId: string,
  ): Promise<{ claimed: string } | { joined: string }> {
    const at = Date.now();
    const ttl = String(this.deadlineMs + 15 * 60_000);
    const mine = JSON.stringify({ runId, at } satisfies InFlightValue);
    const cur = (await this.producer.eval(CLAIM_IN_FLIGHT, 1, key, mine, ttl)) as string | null;
    if (!cur) return { claimed: mine };
    const held = JSON.parse(cur) as InFlightValue;
    const state = await this.runs.getJobState(held.runId);
    const stale =
      state === 'completed' ||
      state === 'failed' ||
      (state === 'unknown' && at - held.at > IN_FLIGHT_GRACE_MS);
    if (!stale) return { joined: held.runId };
    // The holder finished without releasing (a crash) or vanished (Redis restarted): take over.
    const took = await this.producer.eval(REPLACE_IF, 1, key, cur, mine, ttl);
    return took === 1 ? { claimed: mine } : this.claimInFlight(key, runId);
  }

  private async addFlow(req: RunRequest, run: PreparedRun, inFlightKey: string): Promise<void> {
    const { prefix } = this.opts.queue;
    const vantages = vantagesOf(run);
    const live = await liveness(this.producer, prefix, vantages);
    const missing: Record<string, string> = {};
    for (const l of live) if (!l.live) missing[l.vantage] = noWorkerReason(l);
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
    const children: FlowJob[] = live
      .filter(l => l.live)
      .map(l => ({
        name: 'observe',
        queueName: vantageQueue(l.vantage),
        prefix: vantagePrefix(prefix),
        data: {
          runId: run.id,
          environment: run.env.name,
          items: run.items,
          vantage: l.vantage,
        } satisfies VantageJobData,
        opts: {
          // A failed child must not fail the run: the parent reports it as that vantage's error.
          ignoreDependencyOnFailure: true,
          removeOnComplete: { age: 3600 },
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
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
      children,
    });
    await this.producer.zadd(keys.watch(prefix), Date.now() + this.deadlineMs, run.id);
  }

  /**
   * Refresh tokens kept from Teams sign-ins for the environment's mailboxes. The services
   * server's worker redeems them; the verdict needs to know they exist, or the token item would
   * say "no token configured" for a mailbox the worker just checked. Unreadable here (no
   * ECEBOT_SECRET_KEY on this replica): none.
   */
  private async storedTokens(env: Environment): Promise<Map<string, string> | undefined> {
    if (!this.opts.store) return undefined;
    return storedRefreshTokens(this.opts.store, env).catch(() => undefined);
  }

  /** The run as prepared from this process's inventory (secrets stay in this process). */
  private async preparedFor(data: RunJobData): Promise<PreparedRun> {
    const cached = this.prepared.get(data.runId);
    if (cached) return cached;
    const inv = this.opts.inventory();
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
    this.prepared.set(data.runId, p);
    // Bounded: a replica follows a handful of runs at a time.
    if (this.prepared.size > 100) this.prepared.delete(this.prepared.keys().next().value!);
    return p;
  }

  /** What the children reported so far, and which vantage points ended without reporting. */
  private async partsOf(
    job: Job<RunJobData, Run>,
  ): Promise<{ observations: Observation[]; reported: Set<string>; missing: Map<string, string> }> {
    const { prefix } = this.opts.queue;
    const [values, failures, gone] = await Promise.all([
      job.getChildrenValues<VantageResult>(),
      job.getIgnoredChildrenFailures(),
      this.producer.hgetall(keys.missing(prefix, job.data.runId)),
    ]);
    const missing = new Map<string, string>(Object.entries(job.data.missing));
    for (const [v, why] of Object.entries(gone)) missing.set(v, why);
    for (const [key, why] of Object.entries(failures)) {
      const v = vantageOfChildKey(key, prefix);
      if (v) missing.set(v, `the worker for ${v} could not run its part: ${why}`);
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

  /** The parent job: merge, judge, mark missing vantage points, save, release the key. */
  private async assembleRun(job: Job<RunJobData, Run>): Promise<Run> {
    const data = job.data;
    const { prefix } = this.opts.queue;
    let prepared: PreparedRun;
    try {
      prepared = await this.preparedFor(data);
    } catch (err) {
      // This replica cannot judge the run (its inventory lacks the environment or a secret).
      const why = err instanceof InputError ? err.describe() : (err as Error).message;
      throw new UnrecoverableError(`cannot assemble ${data.runId}: ${why}`);
    }
    // A vantage point without a child is in `missing` from submit on (partsOf starts from
    // `data.missing`), so every vantage point here either reported or has its reason.
    const { observations, missing } = await this.partsOf(job);
    const base = assemble(prepared, observations, new Date(data.submittedAt), new Date());
    const run = withMissing(base, prepared.env, factsOf(prepared.env, prepared.secrets), missing);
    await this.opts.store?.saveRun(run);
    // Released before the result is readable: a request made as soon as `wait` reports this run
    // must start a new run, not join the finished one (and get its result back).
    await this.releaseInFlight(data);
    await this.producer.set(keys.result(prefix, run.id), JSON.stringify(run), 'PX', RESULT_TTL_MS);
    await this.opts.afterRun?.(run, { data, observations });
    await this.producer.zrem(keys.watch(prefix), run.id);
    await this.producer.pexpire(keys.missing(prefix, run.id), RESULT_TTL_MS);
    return run;
  }

  /** Release the coalescing key if it still names this run. */
  private async releaseInFlight(data: RunJobData): Promise<void> {
    const cur = await this.producer.get(data.inFlightKey);
    if (!cur) return;
    const held = JSON.parse(cur) as InFlightValue;
    if (held.runId === data.runId)
      await this.producer.eval(REPLACE_IF, 1, data.inFlightKey, cur, '', '0');
  }

  /** Take or keep the owner lock of a run; only the owner emits its events. */
  private async own(runId: string): Promise<boolean> {
    const r = await this.producer.eval(
      CLAIM_OWNER,
      1,
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
      const job = await Job.fromId<RunJobData, Run>(this.runs, runId);
      if (!job) return;
      const run = await this.preparedFor(job.data);
      const { observations, reported, missing } = await this.partsOf(job);
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
    } catch {
      // Progress is best effort: the done event and `wait` carry the result.
    }
  }

  private onCompleted(runId: string, value: unknown): void {
    let run: Run;
    try {
      run = (typeof value === 'string' ? JSON.parse(value) : value) as Run;
    } catch {
      return;
    }
    if (!run || typeof run !== 'object' || run.id !== runId) return;
    this.settle(runId, run);
    this.prepared.delete(runId);
    if (!this.events.listenerCount('done')) return;
    void this.own(runId)
      .then(mine => {
        if (mine) this.events.emit('done', run);
      })
      .catch(() => {});
  }

  private async onFailedEvent(runId: string): Promise<void> {
    try {
      const job = await Job.fromId<RunJobData, Run>(this.runs, runId);
      if (job && (await job.getState()) === 'failed')
        this.fail(runId, new Error(`run ${runId} failed: ${job.failedReason}`));
    } catch {
      // The polling in `wait` catches it later.
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

  /**
   * The watchdog: for runs past their worker deadline, give up on children no live worker
   * holds (waiting ones, and active ones whose lock lapsed because their worker died), so the
   * parent runs and reports them NO_WORKER. Any replica may do it; each step is idempotent.
   */
  private async watch(): Promise<void> {
    if (this.watching || this.closed || this.producer.status !== 'ready') return;
    this.watching = true;
    const { prefix } = this.opts.queue;
    try {
      const due = await this.producer.zrangebyscore(
        keys.watch(prefix),
        0,
        Date.now(),
        'LIMIT',
        0,
        20,
      );
      for (const runId of due) await this.giveUpOverdue(runId);
    } catch {
      // Redis away: the next tick tries again.
    } finally {
      this.watching = false;
    }
  }

  private vantageQueueOf(vantage: string): Queue<VantageJobData, VantageResult> {
    let q = this.vantageQueues.get(vantage);
    if (!q) {
      q = new Queue<VantageJobData, VantageResult>(vantageQueue(vantage), {
        prefix: vantagePrefix(this.opts.queue.prefix),
        connection: this.producer,
      });
      q.on('error', () => {});
      this.vantageQueues.set(vantage, q);
    }
    return q;
  }

  private async giveUpOverdue(runId: string): Promise<void> {
    const { prefix } = this.opts.queue;
    const job = await Job.fromId<RunJobData, Run>(this.runs, runId);
    const state = job ? await job.getState() : 'unknown';
    if (!job || state !== 'waiting-children') {
      if (!job || state === 'completed' || state === 'failed' || state === 'unknown')
        await this.producer.zrem(keys.watch(prefix), runId);
      return;
    }
    const deps = await job.getDependencies({ unprocessed: { count: 1000 } });
    let gaveUp = false;
    for (const key of deps.unprocessed ?? []) {
      const vantage = vantageOfChildKey(key, prefix);
      if (!vantage) continue;
      const child = await Job.fromId(
        this.vantageQueueOf(vantage),
        key.slice(key.lastIndexOf(':') + 1),
      );
      if (!child) continue;
      const childState = await child.getState();
      const locked = (await this.producer.exists(`${key}:lock`)) === 1;
      if (locked) continue; // A live worker holds it; its probes have their own deadlines.
      const [l] = await liveness(this.producer, prefix, [vantage]);
      const seen = noWorkerReason(l ?? { vantage });
      const reason =
        childState === 'active'
          ? `the worker for ${vantage} stopped mid-run and none took over (${seen})`
          : l?.live
            ? `the worker for ${vantage} did not start its part within ${Math.round(this.deadlineMs / 1000)} s`
            : seen;
      await this.producer.hset(keys.missing(prefix, runId), vantage, reason);
      try {
        await child.remove();
        gaveUp = true;
      } catch {
        // Taken meanwhile (locked) or already gone: the next tick looks again.
      }
    }
    if (gaveUp) await job.updateProgress({ vantage: 'watchdog' }).catch(() => {});
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
      const { prefix } = this.opts.queue;
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
      const poll = async () => {
        if (this.producer.status !== 'ready') return;
        try {
          const stored = await this.producer.get(keys.result(prefix, runId));
          if (stored) return this.settle(runId, JSON.parse(stored) as Run);
          const state = await this.runs.getJobState(runId);
          // Twice in a row neither a result nor a job: Redis lost the run (restarted without
          // persistence, or flushed). Say so instead of waiting forever.
          unknown = state === 'unknown' ? unknown + 1 : 0;
          if (unknown >= 2)
            this.fail(
              runId,
              new Error(
                `run ${runId} is no longer in the queue (Redis lost it: restarted without persistence?); run the check again`,
              ),
            );
          if (state === 'failed') {
            const job = await Job.fromId(this.runs, runId);
            this.fail(runId, new Error(`run ${runId} failed: ${job?.failedReason ?? 'unknown'}`));
          }
        } catch {
          // Try again on the next tick.
        }
      };
      const timer = setInterval(() => void poll(), 1000);
      void poll();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchTimer);
    for (const [runId] of this.waiters) this.fail(runId, new Error('run service closed'));
    // With Redis away a graceful close would wait for the reconnection: force it then.
    const away = this.producer.status !== 'ready';
    await this.assembler.close(away);
    const closing = Promise.allSettled([
      this.queueEvents.close(),
      this.flow.close(),
      this.runs.close(),
      ...[...this.vantageQueues.values()].map(q => q.close()),
    ]);
    if (away) {
      // QueueEvents' close waits for its connection's `end`, which ioredis never emits for a
      // connection between reconnection attempts: drop the connections instead of waiting.
      for (const c of [this.producer, ...this.followers]) c.disconnect();
      return;
    }
    await closing;
    for (const c of [this.producer, ...this.followers]) await c.quit().catch(() => c.disconnect());
  }
}
