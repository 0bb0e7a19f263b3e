/**
 * The durable outbox for proactive messages, on BullMQ. Every message is a job in Redis before
 * anyone tries to send it, so nothing queued is lost across a restart (with Redis persistence:
 * compose.yaml turns AOF on). Sending respects Teams' limits (msteams-docs, bots/how-to/
 * rate-limit): at most 7 messages per second per conversation and about 30 per second per
 * tenant, and 429/412/502/504 are retried honouring `Retry-After`.
 *
 * Order per conversation: one send at a time across every replica (BullMQ global concurrency
 * 1), in the order jobs were queued, and a message that must be retried is retried *in place*
 * (the job keeps its slot while it waits) so a later message never overtakes it.
 */
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connect, guardRedis, type QueueConfig } from '../redis/connection';
import { parseStored, StoredDataError } from '../redis/stored';
import { OUTBOX_QUEUE, streamOptions } from '../queue/names';
import { retryable, SendError, type Message, type Notifier, type SendResult } from './types';

/** Teams: send to conversation, per bot per thread, 7 per second. */
export const PER_CONVERSATION_PER_SECOND = 7;
/** Teams: per app per tenant, about 30 per second (the doc's figure; Q&A answers say 50). */
export const PER_TENANT_PER_SECOND = 30;

/**
 * Milliseconds between two sends for a per-tenant rate: one send at a time, evenly spaced,
 * rather than `perTenant` per fixed second. BullMQ's limiter counts in fixed windows, so one
 * window's burst at its end and the next one's at its start put up to twice the rate into one
 * sliding second, which Teams answers with 429 and a Retry-After that holds up the whole
 * single-file outbox (bench fanout_500_s: 16 such 429s and 26 s for 500 conversations). Even
 * spacing with 5% headroom (35 ms at 30/s) keeps every sliding second within the limit while
 * the sends' latencies vary by less than ~15 ms, for ~5% of the peak rate.
 */
export function sendSpacingMs(perTenantPerSecond: number): number {
  return Math.ceil(1050 / perTenantPerSecond);
}

/** One queued message. */
export interface OutboxItem {
  /** Conversation key (Store.saveConversation). */
  conversation: string;
  message: Message;
  /** Update this activity in place instead of posting a new one. */
  activityId?: string;
  /** The incident whose card this is, and its revision when rendered (./incident.ts). */
  incident?: { id: string; rev: number };
}

/**
 * An outbox job's data as read back from Redis (BullMQ parses it; it is checked again here, and
 * re-parsed without `__proto__` keys, ../redis/stored.ts). Cards are capped well above what Teams
 * accepts (about 28 KB, src/render/card.ts CARD_BUDGET_BYTES) and below what would hurt us.
 */
const outboxItemSchema = z.object({
  conversation: z.string().min(1).max(2000),
  message: z
    .object({
      card: z
        .record(z.string(), z.unknown())
        .refine(c => JSON.stringify(c).length <= 200_000, 'card larger than 200 KB')
        .optional(),
      text: z.string().max(100_000).optional(),
      /** A webhook's event (./webhook.ts); every field a bounded string. */
      event: z
        .object({
          id: z.string().min(1).max(500),
          kind: z.enum(['alert', 'reminder', 'recovery']),
          environment: z.string().max(200),
          item: z.string().max(100),
          code: z.string().max(200),
          status: z.string().max(20),
          summary: z.string().max(10_000),
          runId: z.string().max(300),
          time: z.string().max(40),
        })
        .optional(),
    })
    .refine(m => m.card !== undefined || m.text !== undefined, 'neither card nor text'),
  activityId: z.string().min(1).max(2000).optional(),
  /** The on-call incident a card shows (./incident.ts), for recording where it was posted. */
  incident: z.object({ id: z.string().min(1).max(500), rev: z.number().int().min(0) }).optional(),
});

/** Options of the outbox. */
export interface OutboxOptions {
  queue: QueueConfig;
  /** Needed to send (`start`); producers that only enqueue can leave it out. */
  notifier?: Notifier;
  perConversationPerSecond?: number;
  perTenantPerSecond?: number;
  /** Tries per job before it is handed back to BullMQ's own retries (default 8). */
  triesInPlace?: number;
  /** Longest single wait honoured from Retry-After or back-off (default 5 min). */
  maxWaitMs?: number;
  /**
   * Called after each successful send (for the Teams layer: remember the activity id), and
   * awaited; it must not throw (a throw would send the message again).
   */
  onSent?: (item: OutboxItem, result: SendResult, jobId: string) => void | Promise<void>;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Exponential back-off with full jitter (AWS architecture blog), 0.5 s base, capped. */
function backoff(attempt: number, capMs: number): number {
  return Math.min(capMs, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
}

/** Job ids may not hold `:` or be all digits (BullMQ); keep callers' ids readable otherwise. */
function outboxJobId(id: string): string {
  const safe = id.replace(/:/g, '_');
  return /^\d+$/.test(safe) ? `m-${safe}` : safe;
}

export class Outbox {
  private readonly redis: Redis;
  private readonly queue: Queue<OutboxItem, SendResult>;
  private worker: Worker<OutboxItem, SendResult> | undefined;
  private workerRedis: Redis | undefined;

  constructor(private readonly opts: OutboxOptions) {
    this.redis = connect(opts.queue, 'producer');
    this.queue = new Queue<OutboxItem, SendResult>(OUTBOX_QUEUE, {
      prefix: opts.queue.prefix,
      connection: this.redis,
      ...streamOptions,
    });
    this.queue.on('error', () => {});
  }

  /**
   * Queue a message. With `id`, queuing the same id again is a no-op while the job is kept
   * (a week), so a retried producer never sends twice.
   */
  async enqueue(item: OutboxItem, id?: string): Promise<string> {
    return guardRedis(this.redis, this.opts.queue.url, async () => {
      const job = await this.queue.add('send', item, {
        jobId: outboxJobId(id ?? randomUUID()),
        // Tries in place first (see process); then a few more with BullMQ's back-off.
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: { age: 7 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      });
      return job.id!;
    });
  }

  /** Start sending (one replica or several: global concurrency keeps one send at a time). */
  async start(): Promise<void> {
    const notifier = this.opts.notifier;
    if (!notifier) throw new Error('the outbox needs a notifier to send');
    if (this.worker) return;
    await this.queue.setGlobalConcurrency(1);
    const perTenant = this.opts.perTenantPerSecond ?? PER_TENANT_PER_SECOND;
    this.workerRedis = connect(this.opts.queue, 'worker');
    this.worker = new Worker<OutboxItem, SendResult>(
      OUTBOX_QUEUE,
      job => this.process(job, notifier),
      {
        prefix: this.opts.queue.prefix,
        connection: this.workerRedis,
        concurrency: 1,
        limiter: { max: 1, duration: sendSpacingMs(perTenant) },
      },
    );
    this.worker.on('error', () => {});
    await this.worker.waitUntilReady();
  }

  /** Wait for a free slot in the conversation's one-second window (Redis, shared by replicas). */
  private async pace(conversation: string): Promise<void> {
    const max = this.opts.perConversationPerSecond ?? PER_CONVERSATION_PER_SECOND;
    const key = `${this.opts.queue.prefix}:outbox:rate:${conversation}`;
    for (;;) {
      const now = Date.now();
      await this.redis.zremrangebyscore(key, 0, now - 1000);
      const recent = await this.redis.zrange(key, '0', '0', 'WITHSCORES');
      const count = await this.redis.zcard(key);
      if (count < max) return;
      await sleep(Math.max(1, Number(recent[1] ?? now) + 1000 - now));
    }
  }

  /**
   * Count a send in the conversation's window when its answer came back: the channel saw it
   * no later than that, so spacing from there keeps any 1-second window at the limit.
   */
  private async counted(conversation: string): Promise<void> {
    const key = `${this.opts.queue.prefix}:outbox:rate:${conversation}`;
    const now = Date.now();
    await this.redis.multi().zadd(key, now, `${now}-${randomUUID()}`).pexpire(key, 2000).exec();
  }

  private async process(job: Job<OutboxItem, SendResult>, notifier: Notifier): Promise<SendResult> {
    let item: OutboxItem;
    const key = `${this.opts.queue.prefix}:${OUTBOX_QUEUE}:${job.id}`;
    try {
      item = parseStored(
        outboxItemSchema,
        JSON.stringify(job.data ?? null),
        key,
        'an outbox entry',
      ) as OutboxItem;
    } catch (err) {
      // Sending it again cannot make it valid: failed at once, and kept for inspection.
      if (err instanceof StoredDataError) throw new UnrecoverableError(err.message);
      throw err;
    }
    const tries = this.opts.triesInPlace ?? 8;
    const cap = this.opts.maxWaitMs ?? 300_000;
    for (let attempt = 1; ; attempt++) {
      await this.pace(item.conversation);
      try {
        let result: SendResult = {};
        try {
          if (item.activityId)
            await notifier.update(item.conversation, item.activityId, item.message);
          else result = await notifier.send(item.conversation, item.message);
        } finally {
          // Refused sends count too: Teams counts requests, not successes.
          await this.counted(item.conversation);
        }
        await this.opts.onSent?.(item, result, job.id!);
        return result;
      } catch (err) {
        if (!retryable(err))
          // 400/403/404/413: sending again cannot succeed; keep the job (failed) for inspection.
          throw new UnrecoverableError((err as Error).message);
        if (attempt >= tries) throw err;
        const after = err instanceof SendError ? err.retryAfterMs : undefined;
        await sleep(Math.min(cap, after ?? backoff(attempt, cap)));
      }
    }
  }

  /** Jobs not yet sent (waiting, delayed, active). */
  async pending(): Promise<number> {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    await this.worker?.close(this.workerRedis?.status !== 'ready');
    await this.queue.close().catch(() => {});
    for (const c of [this.redis, this.workerRedis]) await c?.quit().catch(() => c.disconnect());
  }
}
