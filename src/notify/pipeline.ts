/**
 * From finished runs to proactive messages. Hooked into the run service (`afterRun`), it
 * remembers each environment's alert state in Redis, applies the pure decisions of ./alerts.ts
 * to scheduled runs, and queues one card per kind to every subscribed conversation unless the
 * environment is muted. It also keeps each environment's forecasts for the daily digest.
 *
 * Exactly once: outbox ids are derived from the run, the kind and the conversation, so a
 * parent job retried after a crash queues nothing new; the state is written after queuing,
 * and folding the same run twice is a no-op.
 */
import type { Redis } from 'ioredis';
import type { Run } from '../model';
import type { Observation } from '../model';
import { connect, guardRedis, type QueueConfig } from '../redis/connection';
import type { RunJobData } from '../queue/jobs';
import type { Store } from '../store/types';
import { decide, DEFAULT_POLICY, type AlertPolicy, type AlertState, type Decision } from './alerts';
import { decisionMessage, digestMessage } from './cards';
import { daysLeft, forecasts, type Forecast } from './forecast';
import type { Outbox } from './outbox';
import { webhookEvents } from './webhook';

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
  /**
   * The webhook keys of an environment (./webhook.ts webhookKeysOf, from the inventory): each
   * also gets every alert, reminder and recovery, one signed JSON event per item. None when unset.
   */
  webhooks?: (environment: string) => string[];
}

/** Forecasts kept per environment for the digest. */
interface StoredForecast {
  runId: string;
  at: string;
  items: Forecast[];
}

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
    const s = await this.guarded(() => this.redis.get(this.key('alerts', environment)));
    return s ? (JSON.parse(s) as AlertState) : { items: {} };
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
        for (const hook of this.opts.webhooks?.(run.environment) ?? [])
          for (const event of webhookEvents(run.environment, run, mine))
            await this.opts.outbox.enqueue(
              { conversation: hook, message: { text: `${event.kind} ${event.item}`, event } },
              `${event.id}-${hook}`,
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
      const raw = await this.guarded(() => this.redis.get(this.key('forecast', env)));
      const f = raw ? (JSON.parse(raw) as StoredForecast) : undefined;
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
