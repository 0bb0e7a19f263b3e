/**
 * From finished runs to proactive messages. Hooked into the run service (`afterRun`), it
 * remembers each environment's alert state in Redis, applies the pure decisions of ./alerts.ts
 * to scheduled runs, and queues one card per kind to every subscribed conversation unless the
 * environment is muted. It also keeps each environment's forecasts for the daily digest.
 *
 * Exactly once: outbox ids are derived from the run, the kind and the conversation, so a
 * parent job retried after a crash queues nothing new; the state is written after queuing,
 * and folding the same run twice is a no-op.
 *
 * State read back from Redis is checked (../redis/stored.ts). An alert state that is not one is
 * logged and started afresh: the pipeline runs inside the assembler's job, and failing there
 * would fail the run itself; the cost is at most one alert sent again after the threshold. A
 * forecast that is not one is logged and left out of the digest.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isItemId } from '../checklist/items';
import type { Run } from '../model';
import type { Observation } from '../model';
import { connect, guardRedis, type QueueConfig } from '../redis/connection';
import type { RunJobData } from '../queue/jobs';
import { SILENT_QUEUE_LOG, type QueueLog } from '../queue/log';
import { tryStored } from '../redis/stored';
import type { Store } from '../store/types';
import { decide, DEFAULT_POLICY, type AlertPolicy, type AlertState, type Decision } from './alerts';
import { decisionMessage, digestMessage } from './cards';
import { daysLeft, forecasts, type Forecast } from './forecast';
import type { Outbox } from './outbox';

/** Options of the pipeline. */
export interface AlertPipelineOptions {
  queue: QueueConfig;
  store: Store;
  outbox: Pick<Outbox, 'enqueue'>;
  policy?: AlertPolicy;
  /**
   * Whether a subscribed conversation may still hear about an environment. A subscription
   * outlives the rules it was made under (the environment later restricted to other teams, the
   * tenant taken off the allowlist), so it is asked again at every send. All when unset.
   */
  audience?: (environment: string, conversation: string) => Promise<boolean>;
  /** Where a stored state or forecast that is not one is reported. */
  log?: QueueLog;
}

/** Forecasts kept per environment for the digest. */
interface StoredForecast {
  runId: string;
  at: string;
  items: Forecast[];
}

const itemStateSchema = z.object({
  failures: z.number().int().min(0).max(1_000_000),
  alerting: z.boolean(),
  lastNotifiedAt: z.string().max(40).optional(),
});

/** An environment's alert state; unknown item ids are dropped, not trusted. */
const alertStateSchema = z
  .object({
    lastRunId: z.string().max(200).optional(),
    items: z.record(z.string().max(100), itemStateSchema),
  })
  .transform((v): AlertState => ({
    ...(v.lastRunId !== undefined ? { lastRunId: v.lastRunId } : {}),
    items: Object.fromEntries(
      Object.entries(v.items).filter(([k]) => isItemId(k)),
    ) as AlertState['items'],
  }));

const forecastSchema = z.object({
  runId: z.string().max(200),
  at: z.string().max(40),
  items: z
    .array(
      z.object({
        kind: z.enum(['entra-secret', 'entra-certificate', 'tls-certificate']),
        subject: z.string().max(10_000),
        expiresAt: z.string().max(40),
        days: z.number(),
        within: z.union([z.literal(7), z.literal(30)]),
      }),
    )
    .max(1000),
});

export class AlertPipeline {
  private readonly redis: Redis;

  constructor(private readonly opts: AlertPipelineOptions) {
    this.redis = connect(opts.queue, 'producer');
  }

  private key(kind: 'alerts' | 'forecast', env: string): string {
    return `${this.opts.queue.prefix}:${kind}:${env}`;
  }

  /** The alert state of an environment (for `status` and tests). */
  async state(environment: string): Promise<AlertState> {
    const key = this.key('alerts', environment);
    const s = await this.guarded(() => this.redis.get(key));
    const fresh: AlertState = { items: {} };
    if (!s) return fresh;
    const log = this.opts.log ?? SILENT_QUEUE_LOG;
    return (
      tryStored(alertStateSchema, s, key, 'an alert state', err =>
        log.warn({ err, environment }, 'alert state unreadable; starting afresh'),
      ) ?? fresh
    );
  }

  /** The `afterRun` hook of the run service. */
  readonly afterRun = async (
    run: Run,
    ctx: { data: RunJobData; observations: Observation[] },
  ): Promise<void> => {
    const now = new Date(run.finishedAt);
    const f: StoredForecast = {
      runId: run.id,
      at: run.finishedAt,
      items: forecasts(ctx.observations, now),
    };
    await this.guarded(() =>
      this.redis.set(this.key('forecast', run.environment), JSON.stringify(f)),
    );
    // Only scheduled runs count towards "N consecutive failing runs".
    if (ctx.data.reason !== 'schedule') return;
    const prev = await this.state(run.environment);
    const { next, decisions } = decide(prev, run, now, this.opts.policy ?? DEFAULT_POLICY);
    if (decisions.length && !(await this.opts.store.mutedUntil(run.environment))) {
      const subscribers = await this.audienceOf(run.environment);
      for (const kind of ['alert', 'reminder', 'recovery'] as const) {
        const mine: Decision[] = decisions.filter(d => d.kind === kind);
        if (!mine.length) continue;
        const message = decisionMessage(run.environment, run.id, kind, mine);
        for (const conversation of subscribers)
          await this.opts.outbox.enqueue(
            { conversation, message },
            `${kind}-${run.id}-${conversation}`,
          );
      }
    }
    await this.guarded(() =>
      this.redis.set(this.key('alerts', run.environment), JSON.stringify(next)),
    );
  };

  /**
   * The daily digest: each subscribed, unmuted environment with something expiring within
   * 30 days gets one card per conversation (at most once a day: the id holds the date).
   */
  async digest(environments: readonly string[], now: Date): Promise<number> {
    let queued = 0;
    const day = now.toISOString().slice(0, 10);
    for (const env of environments) {
      const key = this.key('forecast', env);
      const raw = await this.guarded(() => this.redis.get(key));
      const f = raw
        ? (tryStored(forecastSchema, raw, key, 'a forecast', err =>
            (this.opts.log ?? SILENT_QUEUE_LOG).warn({ err, environment: env }, 'forecast skipped'),
          ) as StoredForecast | undefined)
        : undefined;
      if (!f?.items.length || (await this.opts.store.mutedUntil(env))) continue;
      // Days left are counted again from now: the stored run may be hours old.
      const items = f.items
        .map(i => ({ ...i, ...daysLeft(Date.parse(i.expiresAt), now) }))
        .filter(i => i.days > 0);
      if (!items.length) continue;
      for (const conversation of await this.audienceOf(env)) {
        await this.opts.outbox.enqueue(
          { conversation, message: digestMessage(env, items) },
          `digest-${day}-${env}-${conversation}`,
        );
        queued++;
      }
    }
    return queued;
  }

  /**
   * Every Redis call waits for the first connection and turns an outage into "queue
   * unavailable" (connection.ts), so a hook called right after start-up does not fail.
   */
  private guarded<T>(op: () => Promise<T>): Promise<T> {
    return guardRedis(this.redis, this.opts.queue.url, op);
  }

  /** The subscribers of an environment that may still hear about it. */
  private async audienceOf(environment: string): Promise<string[]> {
    const all = await this.opts.store.subscribers(environment);
    const audience = this.opts.audience;
    if (!audience) return all;
    const out: string[] = [];
    for (const c of all) if (await audience(environment, c)) out.push(c);
    return out;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
