/**
 * The bot's HTTP endpoint: restify 11 (12 needs Node 22) with `/api/messages` handed to
 * botbuilder's CloudAdapter (teams-bot-notes.md §1). Authentication comes from the usual
 * variables (MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType, MicrosoftAppTenantId).
 * Without an app id the adapter checks no tokens: that *local mode* is for the Agents
 * Playground and tests, so the server then binds 127.0.0.1 unless told otherwise.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type Activity,
  type ConfigurationBotFrameworkAuthenticationOptions,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import type {
  AuthenticateRequestResult,
  ServiceClientCredentialsFactory,
} from 'botframework-connector';
// Before restify: keeps its SPDY dependency (and Node's DEP0111 warning) unloaded.
import './no-spdy';
import * as restify from 'restify';
import { jsonBody } from './json-body';
import { TokenGate } from './token-gate';
import { limitsFrom, MemoryRateLimiter, type RateLimiter } from './rate-limit';
import type { Inventory } from '../inventory/load';
import type { RunService } from '../queue/types';
import type { Store } from '../store/types';
import { EcebotBot } from './bot';
import { loadConversation } from './conversations';
import {
  adminAccess,
  graphGroupCheck,
  tenantGate,
  type AdminCheck,
  type GroupCheck,
} from './access';
import type { BotServices } from './handlers';
import { inventoryCheck, metricsDetail, readiness, type ReadinessCheck } from './health';
import { langOf, type Lang } from '../i18n';
import { SILENT_LOG, type BotLog } from './log';
import { createMetrics } from './metrics';
import type { Notifier } from '../notify/types';
import { TeamsNotifier } from './notifier';
import { Proactive } from './proactive';
import { serviceUrlPolicyFrom } from '../notify/service-url';
import { RunCards } from './run-cards';
import { MemoryIncidentState } from '../notify/incident-state';
import { SignIns } from './signin';
import { BundleLinks, publicUrlFrom } from './bundle-links';
import {
  MemoryItemHistory,
  recordingRuns,
  retentionFrom,
  type ItemHistory,
} from '../store/item-history';

/**
 * restify 11 replaces `http.ServerResponse.prototype.writeHead` for the whole process when it
 * loads (lib/server.js `patchResponse(http.ServerResponse)`), with a version that returns
 * undefined. Node's returns the response, and other servers in the same process (the lab's,
 * tests') chain on it: `res.writeHead(200).end()`. Give the chaining back, keeping restify's
 * own behaviour.
 */
function restoreWriteHeadChaining(): void {
  const proto = http.ServerResponse.prototype;
  const restifyWriteHead = proto.writeHead;
  if ((restifyWriteHead as { __ecebotChained?: true }).__ecebotChained) return;
  const chained = function (this: http.ServerResponse, ...args: unknown[]) {
    (restifyWriteHead as (...a: unknown[]) => unknown).apply(this, args);
    return this;
  };
  Object.assign(chained, { __ecebotChained: true });
  proto.writeHead = chained as typeof proto.writeHead;
}
restoreWriteHeadChaining();

/**
 * Variables the adapter reads (botbuilder-core configurationServiceClientCredentialFactory and
 * botFrameworkAuthenticationFactory; teams-bot-notes.md §1). If one of the channel overrides is
 * set, botbuilder uses the whole set as given.
 */
const AUTH_VARS = [
  'MicrosoftAppId',
  'MicrosoftAppPassword',
  'MicrosoftAppType',
  'MicrosoftAppTenantId',
  'CertificateThumbprint',
  'CertificatePrivateKey',
  'ChannelService',
  'ToBotFromChannelOpenIdMetadataUrl',
  'BotOpenIdMetadata',
  'ToBotFromChannelTokenIssuer',
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
  'ToBotFromEmulatorOpenIdMetadataUrl',
  'OAuthUrl',
  'CallerId',
  'ValidateAuthority',
] as const;

/**
 * The request body as an activity, as CloudAdapter.process takes it (botbuilder
 * activityValidator.js): an object with a string `type`; timestamps become dates.
 */
function asActivity(body: unknown): Activity | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const a = body as Record<string, unknown>;
  if (typeof a.type !== 'string' || !a.type) return undefined;
  for (const [k, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    if (typeof a[k] === 'string') {
      a[raw] = a[k];
      a[k] = new Date(a[k]);
    }
  }
  return a as unknown as Activity;
}

/** CloudAdapter whose pipeline runs an activity the gate has already authenticated. */
class GatedAdapter extends CloudAdapter {
  runAuthenticated(
    auth: AuthenticateRequestResult,
    activity: Activity,
    logic: (ctx: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(auth, activity, logic);
  }
}

/** What the server needs. */
export interface BotServerOptions {
  inventory: () => Inventory;
  store: Store;
  runs: RunService;
  /**
   * MicrosoftApp*, ECEBOT_TENANTS, ECEBOT_ADMINS and ECEBOT_ADMIN_GROUPS (./access.ts); also
   * the environment secrets are resolved from (sign-in, the admin group check's probe app).
   */
  vars?: NodeJS.ProcessEnv;
  /** 3978 (the Bot Framework's customary port) by default; 0 for a free one. */
  port?: number;
  /** Local mode: 127.0.0.1 by default; with an app id: all interfaces. */
  host?: string;
  log?: BotLog;
  /** Overrides ECEBOT_ADMINS and ECEBOT_ADMIN_GROUPS. */
  isAdmin?: AdminCheck;
  /**
   * How ECEBOT_ADMIN_GROUPS membership is asked; by default Microsoft Graph checkMemberGroups
   * with the probe app of the inventory environment in the user's tenant.
   */
  groupCheck?: GroupCheck;
  now?: () => Date;
  /**
   * Checks of `GET /readyz`, by name (src/teams/health.ts). By default only `inventory`:
   * the in-process mode needs nothing else. `ecebot serve` adds `redis` and `workers`.
   */
  readiness?: Record<string, ReadinessCheck>;
  /** Waiting + active runs in the queue, for `ecebot_queue_depth` (Redis mode only). */
  queueDepth?: () => Promise<number>;
  /**
   * How the bot signs its own calls to the connector. By default botbuilder builds it from the
   * MicrosoftApp* variables; tests that check inbound tokens offline pass one that does not
   * ask login.microsoftonline.com (teams-bot-notes.md §1, "Offline test of the real validator").
   */
  credentials?: ServiceClientCredentialsFactory;
  /** How long the Bot Framework metadata fetch may take (./token-gate.ts; 10 s by default). */
  metadataDeadlineMs?: number;
  /** After a failed metadata fetch, how long requests get 503 without another (30 s). */
  metadataRetryAfterMs?: number;
  /**
   * Where runs per user and messages per conversation are counted (./rate-limit.ts): in this
   * process by default; `ecebot serve` with REDIS_URL passes the Redis one, shared by replicas.
   */
  rateLimiter?: RateLimiter;
  /**
   * The on-call state and how a changed incident reaches its cards (docs/on-call.md); by
   * default a memory state (maintenance windows typed in chat; no alert cards without Redis).
   */
  oncall?: BotServices['oncall'];
  /**
   * Where `history` reads its per-item marks (src/store/item-history.ts). The caller records into
   * it (recordingRuns around the store it passes, so the assembler's saves count too). Unset: one
   * in memory, with ECEBOT_HISTORY_* retention, recorded from the runs this server saves.
   */
  itemHistory?: ItemHistory;
}

/** A running bot. */
export interface BotServer {
  port: number;
  /** `http://HOST:PORT/api/messages` */
  url: string;
  /** True when no MicrosoftAppId is set (no authentication; local use only). */
  localMode: boolean;
  services: BotServices;
  /** Sends and updates cards in stored conversations (for the alert outbox). */
  notifier: Notifier;
  /** Resolves when no card update or sign-in completion is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The adapter's configuration: only the auth variables, never the whole environment. */
function authOptions(vars: NodeJS.ProcessEnv): ConfigurationBotFrameworkAuthenticationOptions {
  const out: Record<string, string> = {};
  for (const k of AUTH_VARS) if (vars[k]) out[k] = vars[k]!;
  return out as ConfigurationBotFrameworkAuthenticationOptions;
}

/** Start the bot's HTTP server and everything behind it. */
export async function startBotServer(o: BotServerOptions): Promise<BotServer> {
  const vars = o.vars ?? process.env;
  const log = o.log ?? SILENT_LOG;
  const appId = vars.MicrosoftAppId ?? '';
  const localMode = !appId;
  // Both throw InputError on a malformed id list, before the server listens.
  const tenants = tenantGate(vars, o.inventory);
  // Throws InputError on a bad ECEBOT_PUBLIC_URL, before anything starts.
  const publicUrl = publicUrlFrom(vars);
  const admins = o.isAdmin
    ? { isAdmin: o.isAdmin, unset: false }
    : adminAccess({
        vars,
        localMode,
        groupCheck: o.groupCheck ?? graphGroupCheck({ inventory: o.inventory, vars }),
        log,
        ...(o.now ? { now: o.now } : {}),
      });
  const channelAuth = new ConfigurationBotFrameworkAuthentication(authOptions(vars), o.credentials);
  const adapter = new GatedAdapter(channelAuth);
  const gate = new TokenGate(channelAuth, {
    appId,
    vars,
    log,
    ...(o.metadataDeadlineMs !== undefined ? { deadlineMs: o.metadataDeadlineMs } : {}),
    ...(o.metadataRetryAfterMs !== undefined ? { retryAfterMs: o.metadataRetryAfterMs } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const itemHistory = o.itemHistory ?? new MemoryItemHistory(retentionFrom(vars), o.now);
  const store = o.itemHistory
    ? o.store
    : recordingRuns(o.store, itemHistory, (err, run) =>
        log.warn({ err, runId: run.id }, 'recording the run in history failed'),
      );
  const proactive = new Proactive(adapter, appId, store, {
    serviceUrls: serviceUrlPolicyFrom(vars),
    log,
  });
  const langOfConversation = async (key: string): Promise<Lang> =>
    langOf((await loadConversation(store, key))?.locale);
  const runCards = new RunCards({
    runs: o.runs,
    store,
    updater: proactive,
    inventory: o.inventory,
    langOf: langOfConversation,
    log,
    ...(o.now ? { now: o.now } : {}),
  }).start();
  const signins = new SignIns({
    store,
    inventory: o.inventory,
    vars,
    updater: proactive,
    log,
  });
  const services: BotServices = {
    runs: o.runs,
    store,
    inventory: o.inventory,
    runCards,
    signins,
    isAdmin: admins.isAdmin,
    adminsUnset: admins.unset,
    allowsTenant: t => tenants.allows(t),
    // Only local mode without ECEBOT_TENANTS has no tenant boundary: nothing authenticates the
    // tenant id there (./access.ts tenantGate, docs/security.md).
    ...(tenants.mode === 'open' ? { anyTenant: true } : {}),
    limits: { limiter: o.rateLimiter ?? new MemoryRateLimiter(), limits: limitsFrom(vars) },
    log,
    now: o.now ?? (() => new Date()),
    oncall: o.oncall ?? { state: new MemoryIncidentState() },
    itemHistory,
  };
  const bundles = new BundleLinks({
    store: o.store,
    inventory: o.inventory,
    vars,
    publicUrl,
    log,
    now: services.now,
  });
  services.bundles = bundles;
  const bot = new EcebotBot(services, proactive);

  adapter.onTurnError = async (ctx: TurnContext, err: Error) => {
    log.error({ err, activityType: ctx.activity.type }, 'unhandled error in a turn');
    if (ctx.activity.type === 'message') {
      await ctx
        .sendActivity('ecebot hit an internal error; it is in the log.')
        .catch(() => undefined);
    }
  };

  const server = restify.createServer({ name: 'ecebot' });
  // restify ≥ 9: an async handler takes (req, res) only (teams-bot-notes.md §1). The body is
  // read, bounded and parsed as JSON only, before the adapter checks the token (./json-body.ts).
  // The token is decided by our gate (./token-gate.ts): locally first, then by the library under
  // our deadline; only an authenticated activity reaches the adapter's pipeline.
  server.post('/api/messages', jsonBody(), async (req: restify.Request, res: restify.Response) => {
    const activity = asActivity(req.body);
    if (!activity) {
      res.send(400, { error: 'the body is not a Bot Framework activity (no "type")' });
      return;
    }
    const header = req.headers.authorization;
    const verdict = await gate.check(activity, typeof header === 'string' ? header : '');
    if (!verdict.ok) {
      if (verdict.status === 503) res.header('Retry-After', String(gate.retryAfterS));
      res.send(verdict.status, { error: verdict.message });
      return;
    }
    try {
      const answer = await adapter.runAuthenticated(verdict.result, activity, ctx => bot.run(ctx));
      if (answer?.body !== undefined) res.send(answer.status ?? 200, answer.body);
      else res.send(answer?.status ?? 200);
    } catch (err) {
      log.error({ err }, 'activity failed');
      res.send(500, { error: 'internal error' });
    }
  });
  // Operations endpoints, unauthenticated like the usual Kubernetes probes: they show check
  // names, counts and codes only, never configuration or secrets.
  const metrics = createMetrics({
    runs: o.runs,
    detail: metricsDetail(o.vars ?? process.env),
    ...(o.queueDepth ? { queueDepth: o.queueDepth } : {}),
  });
  const checks = o.readiness ?? { inventory: inventoryCheck(o.inventory) };
  // Liveness: answers while the process serves, asks no dependency (a Redis outage must not
  // get the pod restarted).
  server.get('/healthz', (_req: restify.Request, res: restify.Response, next: restify.Next) => {
    res.send(200, { status: 'ok' });
    next();
  });
  server.get('/readyz', async (_req: restify.Request, res: restify.Response) => {
    const r = await readiness(checks);
    res.send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks });
  });
  // Support bundle downloads: a single-use token is the only key (./bundle-links.ts).
  bundles.routes(server);
  server.get('/metrics', async (_req: restify.Request, res: restify.Response) => {
    const text = await metrics.text();
    res.setHeader('content-type', metrics.contentType);
    res.sendRaw(200, text);
  });

  const host = o.host ?? (localMode ? '127.0.0.1' : '0.0.0.0');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 3978, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  log.info(
    {
      port,
      host,
      localMode,
      tenants: tenants.mode,
      admins: admins.unset ? (localMode ? 'everyone (local mode)' : 'nobody') : 'configured',
    },
    'ecebot bot listening',
  );

  const idle = async () => {
    await runCards.idle();
    await signins.idle();
  };
  return {
    port,
    url: `http://${shownHost}:${port}/api/messages`,
    localMode,
    services,
    notifier: new TeamsNotifier(proactive),
    idle,
    async close() {
      await signins.close();
      await runCards.close();
      metrics.close();
      await new Promise<void>(resolve => {
        server.close(() => resolve());
        // Keep-alive clients would hold close() open until their idle timeout.
        server.server.closeAllConnections?.();
      });
    },
  };
}
