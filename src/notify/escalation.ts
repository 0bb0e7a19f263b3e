/**
 * Escalation: an alert nobody acknowledged within the environment's `alerts.escalateAfter` is
 * posted to a second conversation (`alerts.escalateTo`). The timer is a BullMQ delayed job in
 * Redis, not a process timer, so it survives a restart of every replica (the job waits in the
 * queue's delayed set and the next worker up takes it).
 *
 * Exactly once: the delayed job's id is derived from the incident (queuing it again is a
 * no-op), the outbox id of the escalation post from the incident too, and the incident records
 * that it was escalated (compare-and-set) so a second firing finds it done. An incident
 * acknowledged or resolved before the time is not escalated; one whose environment is in a
 * maintenance window then is looked at again when the window ends.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { connect, guardRedis, type QueueConfig } from '../redis/connection';
import { streamOptions } from '../queue/names';
import { SILENT_QUEUE_LOG, type QueueLog } from '../queue/log';
import type { IncidentState } from './incident-state';
import { incidentMessage, publishIncident, type LangOf } from './incident';
import type { Outbox } from './outbox';
import { inWindow, windowEnd, type MaintenanceWindow } from './windows';

/** Queue of the on-call timers (under the same prefix as the runs and the outbox). */
export const ONCALL_QUEUE = 'oncall';

/** What escalation needs to know about an environment (from the inventory's `alerts`). */
export interface EscalationConfig {
  /** Conversation key to escalate to. */
  to: string;
  afterMs: number;
}

/** What a firing did. */
export type EscalationOutcome =
  | 'escalated'
  | 'already escalated'
  | 'acknowledged'
  | 'resolved'
  | 'unknown incident'
  | 'not configured'
  | 'not allowed'
  | 'in a window';

/** Options of the escalation worker. */
export interface EscalationOptions {
  queue: QueueConfig;
  state: IncidentState;
  outbox: Pick<Outbox, 'enqueue'>;
  /** The environment's escalation, as the inventory now says (undefined: none). */
  configOf: (environment: string) => EscalationConfig | undefined;
  /** The maintenance windows of an environment (one-off and weekly). */
  windowsOf: (environment: string) => Promise<MaintenanceWindow[]>;
  /** Whether the conversation may hear about the environment (./pipeline.ts audience). */
  audience?: (environment: string, conversation: string) => Promise<boolean>;
  langOf?: LangOf;
  now?: () => Date;
  log?: QueueLog;
}

interface EscalationJob {
  incident: string;
}

/** BullMQ job ids may not hold `:` (the incident id holds none; the rule is kept anyway). */
const jobId = (id: string, suffix = '') => `escalate-${id}${suffix}`.replace(/:/g, '_');

export class Escalations {
  private readonly redis: Redis;
  private readonly queue: Queue<EscalationJob>;
  private worker: Worker<EscalationJob> | undefined;
  private workerRedis: Redis | undefined;
  private readonly log: QueueLog;

  constructor(private readonly opts: EscalationOptions) {
    this.log = opts.log ?? SILENT_QUEUE_LOG;
    this.redis = connect(opts.queue, 'producer');
    this.queue = new Queue<EscalationJob>(ONCALL_QUEUE, {
      prefix: opts.queue.prefix,
      connection: this.redis,
      ...streamOptions,
    });
    this.queue.on('error', err => this.log.warn({ err }, 'on-call queue error'));
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Start the timer of an incident (a no-op when it is already set: same job id). */
  async schedule(incident: string, delayMs: number, suffix = ''): Promise<void> {
    await guardRedis(this.redis, this.opts.queue.url, () =>
      this.queue.add(
        'escalate',
        { incident },
        {
          jobId: jobId(incident, suffix),
          delay: Math.max(0, delayMs),
          removeOnComplete: { age: 7 * 24 * 3600 },
          removeOnFail: { age: 7 * 24 * 3600 },
          attempts: 5,
          backoff: { type: 'exponential', delay: 5000 },
        },
      ),
    );
  }

  /** Take the timers as they come due. */
  async start(): Promise<void> {
    if (this.worker) return;
    this.workerRedis = connect(this.opts.queue, 'worker');
    this.worker = new Worker<EscalationJob>(
      ONCALL_QUEUE,
      (job: Job<EscalationJob>) => this.fire(job.data.incident),
      { prefix: this.opts.queue.prefix, connection: this.workerRedis, concurrency: 2 },
    );
    this.worker.on('error', err => this.log.warn({ err }, 'on-call worker error'));
    await this.worker.waitUntilReady();
  }

  /** The timer of an incident came due: escalate it unless someone took it or a window is open. */
  async fire(id: string): Promise<EscalationOutcome> {
    const i = await this.opts.state.get(id);
    if (!i) return 'unknown incident';
    if (i.escalated) return 'already escalated';
    if (i.status !== 'open') return i.status;
    const config = this.opts.configOf(i.environment);
    if (!config) return 'not configured';
    const now = this.now();
    const open = inWindow(now, await this.opts.windowsOf(i.environment));
    if (open) {
      // Looked at again when the window ends: a new timer, named after that time.
      const end = windowEnd(now, open) ?? now;
      await this.schedule(id, end.getTime() - now.getTime(), `-after-${end.getTime()}`);
      return 'in a window';
    }
    if (this.opts.audience && !(await this.opts.audience(i.environment, config.to))) {
      this.log.warn(
        { environment: i.environment, incident: id },
        'alerts.escalateTo may not see this environment (tenant or teams); not escalated',
      );
      return 'not allowed';
    }
    // Queued first with an id of its own (a retry queues nothing new), then recorded.
    const lang = (await this.opts.langOf?.(config.to)) ?? 'en';
    const at = now.toISOString();
    const shown = { ...i, escalated: { at, to: config.to } };
    await this.opts.outbox.enqueue(
      {
        conversation: config.to,
        message: incidentMessage(shown, lang),
        incident: { id, rev: i.rev + 1 },
      },
      `escalation-${id}`,
    );
    const r = await this.opts.state.update(id, cur =>
      cur.escalated ? undefined : { ...cur, escalated: { at, to: config.to } },
    );
    if (!r?.changed) return 'already escalated';
    // The cards already posted say it was escalated too.
    await publishIncident(this.opts.outbox, r.incident, this.opts.langOf);
    return 'escalated';
  }

  async close(): Promise<void> {
    await this.worker?.close(this.workerRedis?.status !== 'ready');
    await this.queue.close().catch(() => {});
    for (const c of [this.redis, this.workerRedis]) await c?.quit().catch(() => c.disconnect());
  }
}
