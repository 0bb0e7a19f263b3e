/**
 * `ecebot serve [--config FILE] [--port N]`: the Teams bot. With REDIS_URL it uses the Redis
 * store, the BullMQ queue (workers on each ECE server), the alert outbox and the schedules, and
 * it assembles every queued run with its full inventory (src/queue/assembler.ts), the CLI's
 * too; without, the embedded run service and the memory store (state is lost on restart). Stops cleanly on SIGINT/SIGTERM: no new turns, card
 * updates and sign-ins in flight finish, runs in flight finish.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Io } from '../cli/io';
import { InputError } from '../inventory/errors';
import { findInventoryPath, loadInventory } from '../inventory/load';
import type { AlertPipeline } from '../notify/pipeline';
import type { Outbox } from '../notify/outbox';
import type { Escalations } from '../notify/escalation';
import type { Incident, RedisIncidentState } from '../notify/incident-state';
import { describeUrl, queueConfigFrom } from '../redis/config';
import { RUNS_QUEUE } from '../queue/names';
import type { Scheduler } from '../queue/schedules';
import type { RunService } from '../queue/types';
import { MemoryStore } from '../store/memory';
import type { Store } from '../store/types';
import {
  MemoryItemHistory,
  recordingRuns,
  RedisItemHistory,
  retentionFrom,
  type ItemHistory,
} from '../store/item-history';
import { alertAudience, tenantGate } from './access';
import { loadConversation } from './conversations';
import { langOf } from '../i18n';
import { RedisRateLimiter } from './rate-limit';
import {
  inventoryCheck,
  metricsDetail,
  redisCheck,
  workersCheck,
  type ReadinessCheck,
} from './health';
import { checkLocalModeHost } from './exposure';
import { EmbeddedRunService } from './run-service';
import { startBotServer } from './server';
import { logRedaction } from '../util/log-redact';
import { waitForSignal } from '../util/signals';

/**
 * What the bot needs only with REDIS_URL (BullMQ, the outbox, schedules, on-call timers,
 * webhooks): loaded then, so a bot in local mode carries none of it (docs/performance.md).
 */
async function queueParts() {
  const [bullmq, connection, pipeline, outbox, create, schedules, redisStore] = await Promise.all([
    import('bullmq'),
    import('../redis/connection'),
    import('../notify/pipeline'),
    import('../notify/outbox'),
    import('../queue/create'),
    import('../queue/schedules'),
    import('../store/redis'),
  ]);
  const [escalation, incident, incidentState, oncallConfig, webhook, notices] = await Promise.all([
    import('../notify/escalation'),
    import('../notify/incident'),
    import('../notify/incident-state'),
    import('../notify/oncall-config'),
    import('../notify/webhook'),
    import('../notify/notices'),
  ]);
  return {
    Queue: bullmq.Queue,
    connect: connection.connect,
    AlertPipeline: pipeline.AlertPipeline,
    Outbox: outbox.Outbox,
    createRunService: create.createRunService,
    Scheduler: schedules.Scheduler,
    RedisStore: redisStore.RedisStore,
    Escalations: escalation.Escalations,
    publishIncident: incident.publishIncident,
    recordIncidentPosts: incident.recordIncidentPosts,
    RedisIncidentState: incidentState.RedisIncidentState,
    onCallConfigOf: oncallConfig.onCallConfigOf,
    routeNotifier: webhook.routeNotifier,
    WebhookNotifier: webhook.WebhookNotifier,
    webhookKeysOf: webhook.webhookKeysOf,
    environmentFactsFrom: notices.environmentFactsFrom,
  };
}

/** Run `ecebot serve`; resolves to the exit code once a signal stopped it. */
export async function runServe(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' } },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new InputError(
      `serve: ${(err as Error).message}`,
      'run: ecebot serve [--config FILE] [--port N]',
    );
  }
  const { values } = parsed;
  const rawPort = values.port ?? io.env.PORT ?? '3978';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535)
    throw new InputError(
      `serve: --port must be a number from 0 to 65535, got ${JSON.stringify(rawPort)}`,
    );
  // Local mode authenticates nobody: loopback only (./exposure.ts).
  checkLocalModeHost(io.env);
  const path = findInventoryPath(values.config, io.env, io.cwd);
  const inventory = loadInventory(path);
  // Listen for SIGTERM before starting anything: one that arrives during start-up then stops the
  // bot cleanly once it is up, instead of Node's default (exit at once, mid-start).
  const stopped = waitForSignal();
  const log = pino({ name: 'ecebot', redact: logRedaction() });
  // With REDIS_URL: the Redis store and queue (workers on every ECE server), alerts through a
  // durable outbox, schedules from the inventory. Without: one process, state in memory.
  const queue = queueConfigFrom(io.env);
  const q = queue ? await queueParts() : undefined;
  const baseStore: Store =
    queue && q ? new q.RedisStore({ queue, vars: io.env, log }) : new MemoryStore();
  // Every saved run also leaves its marks in the per-item history `history` reads
  // (docs/history.md); retention from ECEBOT_HISTORY_RUNS and ECEBOT_HISTORY_MAX_AGE.
  const retention = retentionFrom(io.env);
  const itemHistory: ItemHistory = queue
    ? new RedisItemHistory(queue, retention)
    : new MemoryItemHistory(retention);
  const store = recordingRuns(baseStore, itemHistory, (err, run) =>
    log.warn({ err, runId: run.id }, 'recording the run in history failed'),
  );
  let pipeline: AlertPipeline | undefined;
  // On call: incidents and maintenance windows in Redis; updates of alert cards go through the
  // outbox (created once the bot's notifier exists, hence the late reference).
  const incidents: RedisIncidentState | undefined =
    queue && q ? new q.RedisIncidentState(queue) : undefined;
  let outbox: Outbox | undefined;
  const langOfConversation = async (key: string) =>
    langOf((await loadConversation(store, key))?.locale);
  const runs: RunService =
    queue && q
      ? q.createRunService({
          inventory: () => inventory,
          vars: io.env,
          store,
          afterRun: (run, ctx) => pipeline?.afterRun(run, ctx) ?? Promise.resolve(),
          log: log.child({ component: 'queue' }),
        })
      : new EmbeddedRunService(() => inventory, store, io.env, log.child({ component: 'runs' }));
  // Readiness and queue depth get a connection of their own: a producer one, so PING fails at
  // once while Redis is down instead of waiting in ioredis' offline queue.
  const healthRedis = queue && q ? q.connect(queue, 'producer') : undefined;
  const runsQueue =
    queue && healthRedis
      ? new q!.Queue(RUNS_QUEUE, { prefix: queue.prefix, connection: healthRedis })
      : undefined;
  const readinessChecks: Record<string, ReadinessCheck> = {
    inventory: inventoryCheck(() => inventory),
    ...(queue && healthRedis
      ? {
          redis: redisCheck(healthRedis),
          workers: workersCheck(healthRedis, queue.prefix, () => inventory, metricsDetail(io.env)),
        }
      : {}),
  };
  const bot = await startBotServer({
    inventory: () => inventory,
    store,
    itemHistory,
    runs,
    vars: io.env,
    port,
    ...(io.env.ECEBOT_HOST ? { host: io.env.ECEBOT_HOST } : {}),
    log,
    readiness: readinessChecks,
    ...(incidents
      ? {
          oncall: {
            state: incidents,
            publish: async (i: Incident) => {
              if (outbox && q) await q.publishIncident(outbox, i, langOfConversation);
            },
          },
        }
      : {}),
    // Counted in Redis so every replica of the bot shares the limits.
    ...(queue && healthRedis
      ? { rateLimiter: new RedisRateLimiter(healthRedis, queue.prefix) }
      : {}),
    ...(runsQueue
      ? {
          queueDepth: async () => {
            // A run waits for its vantage parts as a parent in `waiting-children`.
            const c = await runsQueue.getJobCounts('waiting', 'active', 'waiting-children');
            return (c.waiting ?? 0) + (c.active ?? 0) + (c['waiting-children'] ?? 0);
          },
        }
      : {}),
  });
  io.out(
    `ecebot serve: listening on ${bot.url} (${
      bot.localMode
        ? 'local mode: no MicrosoftAppId, no authentication; for the Agents Playground and tests only'
        : 'Bot Framework authentication on'
    }); inventory ${path}; Ctrl-C stops it`,
  );
  let scheduler: Scheduler | undefined;
  let escalations: Escalations | undefined;
  if (queue && q && incidents) {
    // Teams conversations and the inventory's webhooks share one durable outbox.
    const webhooks = new q.WebhookNotifier({ inventory: () => inventory, vars: io.env });
    const ob: Outbox = new q.Outbox({
      queue,
      notifier: q.routeNotifier(bot.notifier, webhooks),
      onSent: q.recordIncidentPosts({
        state: incidents,
        outbox: (): Outbox => ob,
        langOf: langOfConversation,
        onError: (err, incident) =>
          log.warn({ err, incident }, 'recording where an alert card was posted failed'),
      }),
    });
    outbox = ob;
    await ob.start();
    const audience = alertAudience({
      store,
      inventory: () => inventory,
      tenants: tenantGate(io.env, () => inventory),
    });
    const configOf = q.onCallConfigOf(() => inventory);
    escalations = new q.Escalations({
      queue,
      state: incidents,
      outbox: ob,
      configOf: env => configOf(env)?.escalation,
      windowsOf: env => p.windowsOf(env),
      audience,
      langOf: langOfConversation,
      log: log.child({ component: 'oncall' }),
    });
    const p = new q.AlertPipeline({
      queue,
      store,
      outbox: ob,
      log,
      audience,
      environment: q.environmentFactsFrom(() => inventory),
      oncall: { state: incidents, configOf, escalations, langOf: langOfConversation },
      webhooks: env => q.webhookKeysOf(inventory, env),
    });
    await escalations.start();
    pipeline = p;
    scheduler = new q.Scheduler({
      queue,
      runs,
      onDigest: (envs, now) => p.digest(envs, now),
      log: log.child({ component: 'schedules' }),
    });
    const scheduled = await scheduler.sync(inventory);
    await scheduler.start();
    io.out(
      `ecebot serve: queue at ${describeUrl(queue.url)}; schedules: ${scheduled.join(', ') || 'none'}`,
    );
  }
  const signal = await stopped;
  io.out(`ecebot serve: ${signal}, stopping`);
  await bot.close();
  await scheduler?.close();
  await escalations?.close();
  await runs.close();
  await outbox?.close();
  await pipeline?.close();
  await incidents?.close();
  await runsQueue?.close();
  // A connection that cannot quit (Redis away) is dropped instead.
  await healthRedis?.quit().catch(() => healthRedis.disconnect());
  await store.close();
  await itemHistory.close();
  return 0;
}
