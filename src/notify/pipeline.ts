/**
 * From finished runs to proactive messages. Hooked into the run service (`afterRun`), it
 * remembers each environment's alert state in Redis, applies the pure decisions of ./alerts.ts
 * to scheduled runs, and queues one card per kind to every subscribed conversation unless the
 * environment is muted. It also keeps each environment's forecasts for the daily digest.
 *
 * Exactly once: outbox ids are derived from the run, the kind and the conversation, so a
 * parent job retried after a crash queues nothing new; the state is written after queuing,
 * and folding the same run twice is a no-op. Drift and staleness notices (./notices.ts) are
 * folded from every run, scheduled or not.
 *
 * On call (`oncall` set, docs/on-call.md): an alert is an incident (./incident.ts) whose card
 * carries Acknowledge, Resolve and Add note; an acknowledged or resolved incident gets no
 * reminders and is not escalated; a recovery resolves it and updates its cards in place; the
 * escalation timer starts with the alert. Muted (`mute ENV DURATION`, a one-off window or a
 * weekly one): nothing is sent, and an alert or reminder held back is not counted as sent, so
 * the first scheduled run after the mute ends tells (with an alert card if none went out).
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
import type { Escalations } from './escalation';
import { daysLeft, forecasts, type Forecast } from './forecast';
import { NoticeWatch, RedisNoticeMemory } from './notices';
import type { EnvironmentFacts } from '../model';
import { incidentMessage, openIncident, publishIncident, recover, type LangOf } from './incident';
import type { IncidentState } from './incident-state';
import type { OnCallConfig } from './oncall-config';
import type { Outbox } from './outbox';
import { webhookEvents } from './webhook';
import { inWindow, type MaintenanceWindow } from './windows';

/** The on-call parts of the pipeline. */
export interface OnCallParts {
  state: IncidentState;
  /** Each environment's settings (./oncall-config.ts onCallConfigOf). */
  configOf: (environment: string) => OnCallConfig | undefined;
  /** Where escalation timers start; none: no escalation. */
  escalations?: Pick<Escalations, 'schedule'>;
  /** The language of each conversation's cards (English when unset). */
  langOf?: LangOf;
}

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
   * The inventory facts of an environment (./notices.ts environmentFactsFrom), for the
   * staleness notices; without them drift is still told, staleness is not.
   */
  environment?: (environment: string) => EnvironmentFacts | undefined;
  /** Acknowledge, resolve, escalate and maintenance windows; plain alert cards when unset. */
  oncall?: OnCallParts;
  /**
   * The webhook keys of an environment (./webhook.ts webhookKeysOf, from the inventory): each
   * also gets every alert, reminder and recovery, one signed JSON event per item. None when unset.
   */
  webhooks?: (environment: string) => string[];
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
  /** Drift and staleness notices (./notices.ts), kept under the same prefix. */
  readonly notices: NoticeWatch;

  constructor(private readonly opts: AlertPipelineOptions) {
    this.redis = connect(opts.queue, 'producer');
    this.notices = new NoticeWatch({
      memory: new RedisNoticeMemory(this.redis, opts.queue.prefix, op => this.guarded(op)),
      muted: (env, now) => this.muted(env, now),
      outbox: opts.outbox,
      audienceOf: env => this.audienceOf(env),
      ...(opts.environment ? { environment: opts.environment } : {}),
    });
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
    // Drift and staleness from every run: a fact read is a fact, whoever asked for the run.
    await this.notices.afterRun(run, ctx.observations);
    // Only scheduled runs count towards "N consecutive failing runs".
    if (ctx.data.reason !== 'schedule') return;
    const env = run.environment;
    const prev = await this.state(env);
    const config = this.opts.oncall?.configOf(env);
    const base = this.opts.policy ?? DEFAULT_POLICY;
    const policy = config?.reminderMs ? { ...base, reminderMs: config.reminderMs } : base;
    const { next, decisions } = decide(prev, run, now, policy);
    if (decisions.length) {
      const recoveries = decisions.filter(d => d.kind === 'recovery');
      // Cards already posted follow a recovery even while muted: that is no new message.
      if (recoveries.length) await this.recoverIncidents(env, recoveries, now);
      if (await this.muted(env, now)) {
        // Held back, so not counted as sent: the first run after the mute tells.
        for (const d of decisions) {
          const item = next.items[d.item];
          if (d.kind === 'recovery' || !item) continue;
          const held = { ...item };
          delete held.lastNotifiedAt;
          next.items[d.item] = held;
        }
      } else await this.send(run, decisions, now);
    }
    await this.guarded(() => this.redis.set(this.key('alerts', env), JSON.stringify(next)));
  };

  /** Whether the environment is muted at `now`: `mute ENV DURATION` or a maintenance window. */
  async muted(environment: string, now: Date): Promise<boolean> {
    const until = await this.opts.store.mutedUntil(environment);
    if (until && until.getTime() > now.getTime()) return true;
    return !!inWindow(now, await this.windowsOf(environment));
  }

  /** The maintenance windows of an environment: one-off ones from chat, weekly ones. */
  async windowsOf(environment: string): Promise<MaintenanceWindow[]> {
    const oc = this.opts.oncall;
    if (!oc) return [];
    return [...(await oc.state.windows(environment)), ...(oc.configOf(environment)?.windows ?? [])];
  }

  /** Queue the cards of one run's decisions to every subscriber. */
  private async send(run: Run, decisions: Decision[], now: Date): Promise<void> {
    const subscribers = await this.audienceOf(run.environment);
    const oc = this.opts.oncall;
    let alerts = decisions.filter(d => d.kind === 'alert');
    let reminders = decisions.filter(d => d.kind === 'reminder');
    if (oc) {
      // A reminder for an item no alert card went out for (muted then) is that alert; one for an
      // incident someone acknowledged or resolved is not sent.
      const remind: Decision[] = [];
      for (const d of reminders) {
        const id = await oc.state.incidentOf(run.environment, d.item);
        const inc = id ? await oc.state.get(id) : undefined;
        if (!inc || inc.recovered.includes(d.item)) alerts = [...alerts, { ...d, kind: 'alert' }];
        else if (inc.status === 'open') remind.push(d);
      }
      reminders = remind;
    }
    if (alerts.length && oc) await this.raise(run, alerts, subscribers, now, oc);
    // Webhooks get every alert, reminder and recovery Teams gets, one signed event per item.
    for (const mine of [alerts, reminders, decisions.filter(d => d.kind === 'recovery')])
      for (const hook of this.opts.webhooks?.(run.environment) ?? [])
        for (const event of webhookEvents(run.environment, run, mine))
          await this.opts.outbox.enqueue(
            { conversation: hook, message: { text: `${event.kind} ${event.item}`, event } },
            `${event.id}-${hook}`,
          );
    for (const [kind, mine] of [
      ['alert', oc ? [] : alerts],
      ['reminder', reminders],
      ['recovery', decisions.filter(d => d.kind === 'recovery')],
    ] as const) {
      if (!mine.length) continue;
      const message = decisionMessage(run.environment, run.id, kind, mine);
      for (const conversation of subscribers)
        await this.opts.outbox.enqueue(
          { conversation, message },
          `${kind}-${run.id}-${conversation}`,
        );
    }
  }

  /** Open the incident of an alert, post its card to every subscriber, start the escalation timer. */
  private async raise(
    run: Run,
    alerts: Decision[],
    subscribers: string[],
    now: Date,
    oc: OnCallParts,
  ): Promise<void> {
    const fresh = openIncident(run.environment, run.id, alerts, now);
    // A retried job finds the incident it opened before (same id) and posts that one.
    const incident = (await oc.state.create(fresh))
      ? fresh
      : ((await oc.state.get(fresh.id)) ?? fresh);
    await oc.state.setIncidentOf(run.environment, incident.items, incident.id);
    for (const conversation of subscribers)
      await this.opts.outbox.enqueue(
        {
          conversation,
          message: incidentMessage(incident, (await oc.langOf?.(conversation)) ?? 'en'),
          incident: { id: incident.id, rev: incident.rev },
        },
        `alert-${run.id}-${conversation}`,
      );
    const escalation = oc.configOf(run.environment)?.escalation;
    if (escalation && oc.escalations)
      await oc.escalations.schedule(incident.id, escalation.afterMs);
  }

  /** Items that pass again: their incidents note it, resolve when all have, and update in place. */
  private async recoverIncidents(environment: string, recoveries: Decision[], now: Date) {
    const oc = this.opts.oncall;
    if (!oc) return;
    const byIncident = new Map<string, string[]>();
    for (const d of recoveries) {
      const id = await oc.state.incidentOf(environment, d.item);
      if (id) byIncident.set(id, [...(byIncident.get(id) ?? []), d.item]);
    }
    for (const [id, items] of byIncident) {
      const r = await oc.state.update(id, i => recover(i, items, now));
      if (r?.changed) await publishIncident(this.opts.outbox, r.incident, oc.langOf);
    }
  }

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
      if (!f?.items.length || (await this.muted(env, now))) continue;
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
