/**
 * Drift and staleness notices: after each run (scheduled or asked for: a fact is a fact whoever
 * asked), fold the run's Exchange/Entra facts and ECE's sign-ins into what is remembered per
 * environment, and queue a card to every conversation that may hear about the environment.
 *
 * Kinds and exactly-once: `drift`, `stale` and `resumed` are notification kinds of their own,
 * queued through the same outbox as the alerts with ids derived from the kind, the run and the
 * conversation, so a retried parent job queues nothing new; the state is written after queuing,
 * and folding the same run twice is a no-op.
 *
 * Mute: the environment's mute (`mute ENV 2h`) silences these kinds like the alerts and the
 * digest. While muted the state still advances, so an unmute does not replay old changes.
 *
 * Memory: the last facts and the stale mailboxes of each environment, bounded (./drift.ts
 * DRIFT_LIMITS), in Redis under the queue prefix (`<prefix>:drift:<env>`, `<prefix>:stale:<env>`),
 * or in memory. Redis is a trust boundary: a stored state that does not parse is dropped and
 * the environment starts over (first facts again, no change told).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Inventory } from '../inventory/load';
import type { EnvironmentFacts, Observation, Run } from '../model';
import { factsOf } from '../runner/facts';
import { foldFacts, permissionLabels, readFacts, type DriftState } from './drift';
import { driftMessage, staleMessage } from './notice-cards';
import type { Outbox } from './outbox';
import { decideStale, signInReadings, staleAfterMs, type StaleState } from './staleness';

/** What is remembered: the kept facts, or the mailboxes told stale. */
export type NoticeKind = 'drift' | 'stale';

/** Where the notice state of each environment is kept (JSON text). */
export interface NoticeMemory {
  get(kind: NoticeKind, environment: string): Promise<string | undefined>;
  set(kind: NoticeKind, environment: string, json: string): Promise<void>;
}

/** The memory equivalent, for one process without Redis (and tests). */
export class MemoryNoticeMemory implements NoticeMemory {
  private readonly map = new Map<string, string>();

  get(kind: NoticeKind, environment: string): Promise<string | undefined> {
    return Promise.resolve(this.map.get(`${kind}:${environment}`));
  }

  set(kind: NoticeKind, environment: string, json: string): Promise<void> {
    this.map.set(`${kind}:${environment}`, json);
    return Promise.resolve();
  }
}

/** In Redis under the queue prefix: `<prefix>:drift:<env>` and `<prefix>:stale:<env>`. */
export class RedisNoticeMemory implements NoticeMemory {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** Waits for the connection and turns an outage into "queue unavailable". */
    private readonly guarded: <T>(op: () => Promise<T>) => Promise<T> = op => op(),
  ) {}

  private key(kind: NoticeKind, environment: string): string {
    return `${this.prefix}:${kind}:${environment}`;
  }

  async get(kind: NoticeKind, environment: string): Promise<string | undefined> {
    return (await this.guarded(() => this.redis.get(this.key(kind, environment)))) ?? undefined;
  }

  async set(kind: NoticeKind, environment: string, json: string): Promise<void> {
    await this.guarded(() => this.redis.set(this.key(kind, environment), json));
  }
}

const driftStateSchema: z.ZodType<DriftState> = z.object({
  lastRunId: z.string().max(200).optional(),
  facts: z.record(
    z.string().max(1000),
    z.object({
      field: z.enum([
        'imap',
        'pop',
        'smtpAuth',
        'smtpAuthOrg',
        'licences',
        'redirectUris',
        'permissions',
        'consent',
        'credentials',
        'fullAccess',
        'sendAs',
      ]),
      subject: z.string().max(1000).optional(),
      value: z.union([z.boolean(), z.null(), z.array(z.string().max(1000)).max(1000)]),
      at: z.string().max(100),
      runId: z.string().max(200),
    }),
  ),
});

const staleStateSchema: z.ZodType<StaleState> = z.object({
  lastRunId: z.string().max(200).optional(),
  stale: z.record(z.string().max(1000), z.object({ since: z.string().max(100).optional() })),
});

/** Parse stored JSON with a schema; anything else is a fresh start. */
function parsed<T>(raw: string | undefined, schema: z.ZodType<T>, empty: T): T {
  if (!raw) return empty;
  try {
    const r = schema.safeParse(JSON.parse(raw));
    return r.success ? r.data : empty;
  } catch {
    return empty;
  }
}

/** The inventory facts staleness needs (mailboxes, accounts, the gap), from a live inventory. */
export function environmentFactsFrom(
  inventory: () => Inventory,
): (environment: string) => EnvironmentFacts | undefined {
  return name => {
    const env = inventory().environments.get(name);
    // No secrets are resolved here: staleness needs names and the gap, not tokens.
    return env ? factsOf(env, { refreshTokens: new Map() }) : undefined;
  };
}

/** Options of the notices. */
export interface NoticeWatchOptions {
  memory: NoticeMemory;
  /**
   * Whether the environment is muted at a time: `mute ENV …` or a maintenance window
   * (AlertPipeline.muted), so notices are silent exactly when alerts are.
   */
  muted: (environment: string, now: Date) => Promise<boolean>;
  outbox: Pick<Outbox, 'enqueue'>;
  /** The conversations that may still hear about an environment (the alerts' audience). */
  audienceOf: (environment: string) => Promise<string[]>;
  /** The inventory facts of an environment; without them there is no staleness verdict. */
  environment?: (environment: string) => EnvironmentFacts | undefined;
}

export class NoticeWatch {
  constructor(private readonly opts: NoticeWatchOptions) {}

  /** The kept facts of an environment (for tests and `status`). */
  async driftState(environment: string): Promise<DriftState> {
    return parsed(await this.opts.memory.get('drift', environment), driftStateSchema, {
      facts: {},
    });
  }

  /** The mailboxes of an environment told stale and not yet resumed. */
  async staleState(environment: string): Promise<StaleState> {
    return parsed(await this.opts.memory.get('stale', environment), staleStateSchema, {
      stale: {},
    });
  }

  /** Fold one finished run; queue what there is to tell. */
  async afterRun(run: Run, observations: Observation[]): Promise<void> {
    const env = run.environment;
    const now = new Date(run.finishedAt);
    const drift = foldFacts(await this.driftState(env), run, readFacts(observations));
    const facts = this.opts.environment?.(env);
    const readings = facts ? signInReadings(facts, observations, now) : undefined;
    const stale = decideStale(
      await this.staleState(env),
      run.id,
      readings,
      now,
      facts ? staleAfterMs(facts) : 0,
    );
    const messages = [
      ...(drift.changes.length
        ? [
            {
              kind: 'drift',
              message: driftMessage(env, run.id, drift.changes, permissionLabels(observations)),
            },
          ]
        : []),
      ...(['stale', 'resumed'] as const).flatMap(kind => {
        const mine = stale.decisions.filter(d => d.kind === kind);
        return mine.length ? [{ kind, message: staleMessage(env, run.id, kind, mine) }] : [];
      }),
    ];
    if (messages.length && !(await this.opts.muted(env, now))) {
      const audience = await this.opts.audienceOf(env);
      for (const { kind, message } of messages)
        for (const conversation of audience)
          await this.opts.outbox.enqueue(
            { conversation, message },
            `${kind}-${run.id}-${conversation}`,
          );
    }
    await this.opts.memory.set('drift', env, JSON.stringify(drift.next));
    await this.opts.memory.set('stale', env, JSON.stringify(stale.next));
  }
}
