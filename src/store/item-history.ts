/**
 * Per-environment and per-item history: one small mark (run id, finish time, status) per run
 * and per item the run judged, for `history ENV [ITEM]` charts and uptime over a window
 * (docs/history.md). Kept apart from the run store (./types.ts): a run's full JSON is heavy and
 * kept for 50 runs; a mark is ~60 bytes, so a month of scheduled runs fits.
 *
 * Retention is bounded twice, per environment and per item: at most `maxRuns` marks per key,
 * none older than `maxAgeMs`, and every key expires `maxAgeMs` after its last mark, so an
 * environment that stops running (or is removed from the inventory) leaves nothing behind.
 *
 * Redis keys, under `<prefix>:item-history:`: `<env>` (the run's overall status) and
 * `<env>:<item>` (one per checklist item), sorted sets scored by finish time (ms) whose members
 * are `{"r":RUN_ID,"s":STATUS}`. Environment names cannot hold `:` (src/inventory/schema.ts),
 * so the two never collide.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ItemId, Run, Status } from '../model';
import { connect, firstConnection, guardRedis, type QueueConfig } from '../redis/connection';
import { InputError } from '../inventory/errors';
import type { Store } from './types';

/** One run as history keeps it, for the environment or one item. */
export interface HistoryMark {
  runId: string;
  /** When the run finished (ISO 8601). */
  at: string;
  /** The run's overall status, or the item's finding. */
  status: Status;
}

/** How much history is kept. */
export interface HistoryRetention {
  /** Marks kept per environment and per item (the newest). */
  maxRuns: number;
  /** Marks older than this are dropped, and a key expires this long after its last mark. */
  maxAgeMs: number;
}

/**
 * Defaults: 31 days, so a 30-day uptime figure is whole; 3000 marks, so a schedule of every
 * 15 minutes (2880 runs in 30 days) still reaches back 30 days. docs/history.md gives the
 * Redis memory this costs.
 */
export const DEFAULT_RETENTION: HistoryRetention = {
  maxRuns: 3000,
  maxAgeMs: 31 * 86_400_000,
};

/** The limits a setting may take: enough for a year of 5-minute runs, never unbounded. */
const MAX_RUNS_LIMIT = 200_000;
const MAX_AGE_LIMIT_MS = 400 * 86_400_000;

/** A span like `24h`, `7d`, `30d`, `2w` in ms, or undefined when it is not one. */
export function parseSpan(raw: string): number | undefined {
  const m = /^(\d{1,5})(m|h|d|w)$/.exec(raw.trim().toLowerCase());
  if (!m) return undefined;
  const ms = Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

/**
 * Retention from ECEBOT_HISTORY_RUNS and ECEBOT_HISTORY_MAX_AGE (docs/configuration.md,
 * "History retention"); a bad value throws an InputError naming the variable and the fix.
 */
export function retentionFrom(vars: NodeJS.ProcessEnv): HistoryRetention {
  const out = { ...DEFAULT_RETENTION };
  const runs = vars.ECEBOT_HISTORY_RUNS?.trim();
  if (runs) {
    const n = /^\d{1,7}$/.test(runs) ? Number(runs) : NaN;
    if (!(n >= 1 && n <= MAX_RUNS_LIMIT))
      throw new InputError(
        `ECEBOT_HISTORY_RUNS must be a whole number from 1 to ${MAX_RUNS_LIMIT}, got ${JSON.stringify(runs)}`,
        `set ECEBOT_HISTORY_RUNS=${DEFAULT_RETENTION.maxRuns} (runs kept per environment and per item), or unset it`,
      );
    out.maxRuns = n;
  }
  const age = vars.ECEBOT_HISTORY_MAX_AGE?.trim();
  if (age) {
    const ms = parseSpan(age);
    if (ms === undefined || ms > MAX_AGE_LIMIT_MS)
      throw new InputError(
        `ECEBOT_HISTORY_MAX_AGE must be a span such as 31d, 12w or 720h (at most 400d), got ${JSON.stringify(age)}`,
        'set ECEBOT_HISTORY_MAX_AGE=31d, or unset it',
      );
    out.maxAgeMs = ms;
  }
  return out;
}

/** What to read: one environment, optionally one item, optionally from a time on. */
export interface MarksQuery {
  environment: string;
  item?: ItemId;
  /** Only marks at or after this time. */
  since?: Date;
}

/** Where history marks are kept. */
export interface ItemHistory {
  readonly retention: HistoryRetention;
  /** Keep a finished run's marks (its status, and each item's); recording a run twice is a no-op. */
  record(run: Run): Promise<void>;
  /** Marks oldest first, within retention. */
  marks(q: MarksQuery): Promise<HistoryMark[]>;
  close(): Promise<void>;
}

/** The marks a run leaves: one for the environment, one per item it judged. */
export function marksOf(run: Run): { item?: ItemId; mark: HistoryMark }[] {
  const at = run.finishedAt;
  return [
    { mark: { runId: run.id, at, status: run.status } },
    ...run.findings.map(f => ({ item: f.item, mark: { runId: run.id, at, status: f.status } })),
  ];
}

/** The memory history, for the embedded bot and the tests; lost when the process ends. */
export class MemoryItemHistory implements ItemHistory {
  private readonly keys = new Map<string, HistoryMark[]>();

  constructor(
    readonly retention: HistoryRetention = DEFAULT_RETENTION,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(run: Run): Promise<void> {
    const cutoff = this.now().getTime() - this.retention.maxAgeMs;
    for (const { item, mark } of marksOf(run)) {
      const key = item ? `${run.environment}:${item}` : run.environment;
      const list = (this.keys.get(key) ?? []).filter(
        m => m.runId !== mark.runId && Date.parse(m.at) >= cutoff,
      );
      list.push(mark);
      list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      this.keys.set(key, list.slice(-this.retention.maxRuns));
    }
  }

  async marks(q: MarksQuery): Promise<HistoryMark[]> {
    const key = q.item ? `${q.environment}:${q.item}` : q.environment;
    const from = Math.max(
      this.now().getTime() - this.retention.maxAgeMs,
      q.since?.getTime() ?? -Infinity,
    );
    return (this.keys.get(key) ?? []).filter(m => Date.parse(m.at) >= from).map(m => ({ ...m }));
  }

  async close(): Promise<void> {}
}

/** A mark as Redis holds it; what comes back from Redis is parsed, never trusted. */
const MEMBER = z.object({
  r: z.string().min(1).max(200),
  s: z.enum(['pass', 'warn', 'fail', 'skip', 'error']),
});

/** The Redis history, shared by every bot replica and the assembler. */
export class RedisItemHistory implements ItemHistory {
  private readonly redis: Redis;
  private readonly p: string;

  constructor(
    private readonly queue: QueueConfig,
    readonly retention: HistoryRetention = DEFAULT_RETENTION,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.p = `${queue.prefix}:item-history`;
    this.redis = connect(queue, 'producer');
  }

  /** Resolve once connected (or after `timeoutMs`; the next call then says unavailable). */
  async ready(timeoutMs = 5000): Promise<void> {
    await firstConnection(this.redis, timeoutMs);
  }

  /** The key of an environment's marks, or of one item's. */
  key(environment: string, item?: ItemId): string {
    return item ? `${this.p}:${environment}:${item}` : `${this.p}:${environment}`;
  }

  async record(run: Run): Promise<void> {
    const at = Date.parse(run.finishedAt);
    if (Number.isNaN(at)) return;
    const cutoff = this.now().getTime() - this.retention.maxAgeMs;
    await guardRedis(this.redis, this.queue.url, async () => {
      // One key per mark, each step on that key alone: a Redis Cluster spreads the keys over
      // its slots, and a MULTI spanning slots would be refused (docs/deployment.md §6).
      for (const { item, mark } of marksOf(run)) {
        const key = this.key(run.environment, item);
        await this.redis
          .multi()
          .zadd(key, at, JSON.stringify({ r: mark.runId, s: mark.status }))
          .zremrangebyscore(key, '-inf', `(${cutoff}`)
          .zremrangebyrank(key, 0, -(this.retention.maxRuns + 1))
          .pexpire(key, this.retention.maxAgeMs)
          .exec();
      }
    });
  }

  async marks(q: MarksQuery): Promise<HistoryMark[]> {
    const from = Math.max(
      this.now().getTime() - this.retention.maxAgeMs,
      q.since?.getTime() ?? -Infinity,
    );
    const raw = await guardRedis(this.redis, this.queue.url, () =>
      this.redis.zrangebyscore(
        this.key(q.environment, q.item),
        Number.isFinite(from) ? from : '-inf',
        '+inf',
        'WITHSCORES',
      ),
    );
    const out: HistoryMark[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const parsed = MEMBER.safeParse(safeJson(raw[i]!));
      const at = Number(raw[i + 1]);
      // A member this version cannot read is left out rather than shown half-understood.
      if (parsed.success && Number.isFinite(at))
        out.push({ runId: parsed.data.r, at: new Date(at).toISOString(), status: parsed.data.s });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The store with every saved run also recorded in `history`. A failed record is reported to
 * `onError` and does not fail the save: the run itself is kept, only its marks are missing.
 */
export function recordingRuns(
  store: Store,
  history: ItemHistory,
  onError: (err: unknown, run: Run) => void,
): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'saveRun')
        return async (run: Run) => {
          await target.saveRun(run);
          await history.record(run).catch((err: unknown) => onError(err, run));
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
