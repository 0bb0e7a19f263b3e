/**
 * What each command does, and the dispatcher that parses a message and runs its command.
 * Handlers see a CommandContext (reply with a card, who asked, where) and the bot's services,
 * never a botbuilder type: the Teams specifics stay in ./bot.ts.
 */
import type { ItemId, Run } from '../model';
import type { AdaptiveCard } from '../render/card-data';
import { InputError } from '../inventory/errors';
import { suggest, type Inventory } from '../inventory/load';
import { RunBusyError, type RunHandle, type RunRequest, type RunService } from '../queue/types';
import type { Store } from '../store/types';
import type { Incident, IncidentState } from '../notify/incident-state';
import type { Environment } from '../inventory/types';
import { buildOverview } from '../overview/overview';
import type { ItemHistory } from '../store/item-history';
import { historyReport } from '../history/report';
import { itemIds } from '../checklist/items';
import {
  environmentsCard,
  errorCard,
  finishedRunCard,
  helpCard,
  historyCard,
  noticeCard,
  overviewCard,
  parseErrorCard,
  sharePickerCard,
  type EnvironmentRow,
} from './cards';
import {
  hiddenAt,
  inventoryAt,
  logRefusal,
  visibleIn,
  type AdminCheck,
  type Place,
  type Requester,
} from './access';
import { commandSpec, type CommandName, type ParsedArgs } from './commands';
import { loadConversation } from './conversations';
import { formatTime, messages, type Lang } from '../i18n';
import type { BotLog } from './log';
import { parseCommand, type ParseKnowledge } from './parser';
import { escapeMarkdown } from '../render/escape';
import { RateLimitedError, type BotLimits, type RateLimiter } from './rate-limit';
import type { RunCards } from './run-cards';
import type { ShareTarget } from './share-target';
import type { SignIns } from './signin';
import type { BundleLinks } from './bundle-links';

/** Where a command was typed and how to answer. */
export interface CommandContext {
  lang: Lang;
  user: Requester;
  /** The conversation (a channel thread has its own): where cards are posted and updated. */
  conversationKey: string;
  /** The place itself (a channel, not one thread): what subscriptions name. */
  placeKey: string;
  /**
   * Tenant and team of the conversation: which environments exist here (./access.ts). Built
   * by ./bot.ts placeHere, which alone sets `anyTenant` (from BotServices.anyTenant).
   */
  place: Place;
  /** Post a card as a new message; resolves to its activity id. */
  reply(card: AdaptiveCard): Promise<string | undefined>;
  /** The channels of the team this conversation belongs to (empty outside a team). */
  teamChannels(): Promise<ShareTarget[]>;
}

/** The services handlers use. */
export interface BotServices {
  runs: RunService;
  store: Store;
  inventory: () => Inventory;
  runCards: RunCards;
  signins: SignIns;
  /** Support bundle download links (./bundle-links.ts); without them the button names the CLI. */
  bundles?: BundleLinks;
  isAdmin: AdminCheck;
  /** No admin is configured (ECEBOT_ADMINS and ECEBOT_ADMIN_GROUPS unset): refusals say so. */
  adminsUnset: boolean;
  /** The tenant allowlist (ECEBOT_TENANTS, ./access.ts tenantGate). */
  allowsTenant(tenantId: string | undefined): boolean;
  /**
   * No tenant boundary: local mode without ECEBOT_TENANTS (tenantGate mode `open`), where no
   * tenant id is authenticated. Unset: every environment belongs to its tenants (./access.ts).
   */
  anyTenant?: boolean;
  /** Runs per user and messages per conversation (./rate-limit.ts); none when unset. */
  limits?: { limiter: RateLimiter; limits: BotLimits };
  log: BotLog;
  now: () => Date;
  /**
   * On call (docs/on-call.md): the incidents behind alert cards and the one-off maintenance
   * windows of `mute ENV from … to …`; `publish` queues the in-place update of every card of an
   * incident that changed (the outbox, with Redis). Without it, `mute … from … to …` is refused.
   */
  oncall?: { state: IncidentState; publish?: (incident: Incident) => Promise<void> };
  /**
   * Every environment's name and Entra tenant, whatever the place may see: only for the
   * cross-tenant incident rule of `overview` (src/overview/incidents.ts), which shows a count
   * of tenants, never their names. Set by {@link servicesAt} when it narrows the inventory;
   * unset, the inventory is already the whole one.
   */
  incidentScope?: () => readonly Pick<Environment, 'name' | 'tenant'>[];
  /** Per-item history for `history`'s uptime and charts (src/store/item-history.ts). */
  itemHistory?: ItemHistory;
}

/** One command's behaviour. */
export type CommandHandler = (
  ctx: CommandContext,
  args: ParsedArgs,
  s: BotServices,
) => Promise<void>;

/** How many runs `history` lists. */
const HISTORY_ROWS = 10;
/** The window of `history`'s uptime and chart in chat: a week (the CLI takes --since). */
const HISTORY_WINDOW_MS = 7 * 86_400_000;

/** What the parser needs from the inventory. */
function knowledgeOf(inv: Inventory): ParseKnowledge {
  return {
    environments: [...inv.environments.keys()],
    mailboxes: env => inv.environments.get(env)?.mailboxes.map(m => m.address) ?? [],
  };
}

/** Count a run against the person who asks; over the limit, throw the refusal. */
async function takeRun(s: BotServices, userId: string | undefined): Promise<void> {
  if (!s.limits || !userId) return;
  const t = await s.limits.limiter.take(`runs:${userId}`, s.limits.limits.runsPerUser);
  if (!t.ok) throw new RateLimitedError('runs', t.waitMs);
}

/** Submit a run and post its card in the running state; the card then follows the run. */
async function startRun(
  ctx: Pick<CommandContext, 'lang' | 'user' | 'conversationKey' | 'reply'>,
  s: BotServices,
  environment: string,
  items: ItemId[] | undefined,
  reason: RunRequest['reason'],
): Promise<void> {
  const req: RunRequest = {
    environment,
    ...(items?.length ? { items } : {}),
    reason,
    requestedBy: { id: ctx.user.id, name: ctx.user.name },
  };
  await takeRun(s, ctx.user.id);
  const handle = await s.runs.submit(req);
  s.runCards.noteRequest(handle.runId, req);
  const id = await ctx.reply(s.runCards.initialCard(handle.runId, ctx.lang));
  if (id)
    await s.runCards.attach(handle.runId, { conversation: ctx.conversationKey, activityId: id });
}

/** Submit a run for a card button: the card that was clicked becomes the new run's card. */
export async function rerun(
  s: BotServices,
  req: RunRequest,
  card: { conversationKey: string; activityId?: string },
  lang: Lang,
): Promise<{ handle: RunHandle; card: AdaptiveCard }> {
  await takeRun(s, req.requestedBy?.id);
  const handle = await s.runs.submit(req);
  s.runCards.noteRequest(handle.runId, req);
  const running = s.runCards.initialCard(handle.runId, lang);
  if (card.activityId)
    await s.runCards.attach(handle.runId, {
      conversation: card.conversationKey,
      activityId: card.activityId,
    });
  return { handle, card: running };
}

async function environmentRows(s: BotServices, placeKey: string): Promise<EnvironmentRow[]> {
  const inv = s.inventory();
  const subscribed = new Set(await s.store.subscriptionsOf(placeKey));
  const rows: EnvironmentRow[] = [];
  for (const env of inv.environments.values()) {
    const [last] = await s.store.history(env.name, 1);
    const muted = await s.store.mutedUntil(env.name);
    rows.push({
      name: env.name,
      ...(env.description ? { description: env.description } : {}),
      release: `${env.ece.version} ES${env.ece.es}`,
      servers: env.servers.length,
      mailboxes: env.mailboxes.length,
      ...(last ? { last } : {}),
      subscribedHere: subscribed.has(env.name),
      ...(muted ? { mutedUntil: muted } : {}),
    });
  }
  return rows;
}

/**
 * Where a run can be shared from here: conversations subscribed to its environment, then this
 * team's channels. A conversation is offered only when the environment exists for it (its
 * tenant may see it, and for a team-restricted environment it is in one of the teams), even
 * when it subscribed before a restriction was set; a run whose environment is no longer in
 * the inventory offers no subscribed conversation. The callers have already checked that the
 * environment exists for the place asking, so this team's channels (same team, same tenant)
 * may see it too.
 */
export async function shareTargets(
  s: BotServices,
  run: Run,
  lang: Lang,
  teamChannels: () => Promise<ShareTarget[]>,
): Promise<ShareTarget[]> {
  const m = messages(lang);
  const out: ShareTarget[] = [];
  const seen = new Set<string>();
  const env = s.inventory().environments.get(run.environment);
  for (const key of await s.store.subscribers(run.environment)) {
    const rec = await loadConversation(s.store, key);
    if (!rec) continue;
    if (!env || !visibleIn(env, rec, s.anyTenant)) continue;
    seen.add(rec.channelId ?? key);
    out.push({
      kind: 'conversation',
      id: key,
      title: `${rec.name ?? key} (${m.subscribedChannel(run.environment)})`,
    });
  }
  let channels: ShareTarget[] = [];
  try {
    channels = await teamChannels();
  } catch (err) {
    s.log.warn({ err }, 'listing the team’s channels failed');
  }
  for (const c of channels) if (!seen.has(c.id)) out.push(c);
  return out;
}

const HANDLERS = {
  async check(ctx, args, s) {
    await startRun(ctx, s, args.environment!, args.item ? [args.item] : undefined, 'chat');
  },

  async status(ctx, args, s) {
    const m = messages(ctx.lang);
    if (!args.environment) {
      await ctx.reply(
        environmentsCard(ctx.lang, await environmentRows(s, ctx.placeKey), m.statusTitle),
      );
      return;
    }
    const [last] = await s.store.history(args.environment, 1);
    const run = last && (await s.store.getRun(last.id));
    await ctx.reply(
      run ? finishedRunCard(run, { lang: ctx.lang }) : noticeCard(m.noHistory(args.environment)),
    );
  },

  async history(ctx, args, s) {
    const env = args.environment!;
    const runs = args.item ? [] : await s.store.history(env, HISTORY_ROWS);
    const until = s.now();
    const report = s.itemHistory
      ? await historyReport(s.itemHistory, {
          environment: env,
          ...(args.item ? { item: args.item } : {}),
          since: new Date(until.getTime() - HISTORY_WINDOW_MS),
          until,
          allItems: itemIds(),
        })
      : undefined;
    await ctx.reply(historyCard(ctx.lang, env, runs, report));
  },

  async envs(ctx, _args, s) {
    await ctx.reply(environmentsCard(ctx.lang, await environmentRows(s, ctx.placeKey)));
  },

  async overview(ctx, _args, s) {
    // The inventory here is what this place may see (servicesAt, access.ts visibleAt).
    const visible = [...s.inventory().environments.values()];
    const all = s.incidentScope?.() ?? visible;
    await ctx.reply(overviewCard(ctx.lang, await buildOverview(s.store, visible, all, s.now())));
  },

  async subscribe(ctx, args, s) {
    const m = messages(ctx.lang);
    const env = args.environment!;
    if ((await s.store.subscriptionsOf(ctx.placeKey)).includes(env)) {
      await ctx.reply(noticeCard(m.alreadySubscribed(env)));
      return;
    }
    await s.store.subscribe(env, ctx.placeKey);
    await ctx.reply(noticeCard(m.subscribedTo(env), 'good'));
  },

  async unsubscribe(ctx, args, s) {
    const m = messages(ctx.lang);
    const env = args.environment!;
    const was = await s.store.unsubscribe(env, ctx.placeKey);
    await ctx.reply(
      noticeCard(was ? m.unsubscribedFrom(env) : m.notSubscribed(env), was ? 'good' : 'default'),
    );
  },

  async mute(ctx, args, s) {
    const m = messages(ctx.lang);
    const env = args.environment!;
    if (args.window) {
      const { from, to } = args.window;
      if (to.getTime() <= s.now().getTime()) {
        await ctx.reply(errorCard(ctx.lang, m.windowOver(formatTime(to))));
        return;
      }
      if (!s.oncall) throw new Error('maintenance windows need the on-call state');
      await s.oncall.state.addWindow(
        env,
        { kind: 'once', from: from.toISOString(), to: to.toISOString() },
        s.now(),
      );
      await ctx.reply(noticeCard(m.mutedWindow(env, formatTime(from), formatTime(to)), 'good'));
      return;
    }
    const d = args.duration!;
    if (d.ms === 0) {
      await s.store.setMute(env, undefined);
      await s.oncall?.state.clearWindows(env);
      await ctx.reply(noticeCard(s.oncall ? m.unmutedWindows(env) : m.unmuted(env), 'good'));
      return;
    }
    const until = new Date(s.now().getTime() + d.ms);
    await s.store.setMute(env, until);
    await ctx.reply(noticeCard(m.mutedFor(env, formatTime(until)), 'good'));
  },

  async share(ctx, args, s) {
    const m = messages(ctx.lang);
    const found = await s.store.getRun(args.run!);
    // A run of an environment this place cannot see is as unknown as a run that never was.
    const run = found && s.inventory().environments.has(found.environment) ? found : undefined;
    if (found && !run)
      logRefusal(s.log, {
        user: ctx.user,
        command: 'share',
        environment: found.environment,
        // The handler sees only this place's inventory: the full one is not at hand to say why.
        reason: 'environment not visible here',
      });
    if (!run) {
      const here = s.inventory().environments;
      const recent = (await s.store.searchRuns('', 50))
        .filter(r => here.has(r.environment))
        .map(r => r.id);
      const close = suggest(args.run!, recent);
      await ctx.reply(
        errorCard(ctx.lang, m.unknownRun(args.run!), close ? [m.didYouMean(close)] : []),
      );
      return;
    }
    const targets = await shareTargets(s, run, ctx.lang, ctx.teamChannels);
    await ctx.reply(sharePickerCard(ctx.lang, run, targets, 'notice'));
  },

  async signin(ctx, args, s) {
    const start = await s.signins.begin({
      environment: args.environment!,
      mailbox: args.mailbox!,
      lang: ctx.lang,
      conversationKey: ctx.conversationKey,
    });
    let id: string | undefined;
    try {
      id = await ctx.reply(start.card);
    } finally {
      start.posted(id);
    }
  },

  async help(ctx, args) {
    await ctx.reply(helpCard(ctx.lang, args.command));
  },
} satisfies Record<CommandName, CommandHandler>;

/** The handler of a command. */
export function handlerOf(name: CommandName): CommandHandler {
  return HANDLERS[name];
}

/** The error card for someone who is not an admin; says what to set when no admin is configured. */
export function notAdminCard(lang: Lang, command: string, s: BotServices): AdaptiveCard {
  const m = messages(lang);
  return errorCard(lang, m.notAdmin(command), s.adminsUnset ? [m.adminsUnset] : []);
}

/**
 * The answer to an `admin` command or card button from someone who is not an admin, logged as a
 * refusal; undefined when the user is an admin. `command` is what the log names (the command or
 * the button's verb), `shown` the command the card names.
 */
export async function adminRefusal(
  s: BotServices,
  lang: Lang,
  user: Requester,
  asked: { command: string; shown: string; environment?: string },
): Promise<AdaptiveCard | undefined> {
  if (await s.isAdmin(user)) return undefined;
  logRefusal(s.log, {
    user,
    command: asked.command,
    ...(asked.environment ? { environment: asked.environment } : {}),
    reason: s.adminsUnset ? 'not an admin (no admins configured)' : 'not an admin',
  });
  return notAdminCard(lang, asked.shown, s);
}

/**
 * The services as a place sees them: the inventory without other tenants' environments and
 * those restricted to other teams, so the parser, `envs`, `status`, `history`, `mute`,
 * `subscribe`, `share` and every other handler simply do not know them (./access.ts visibleAt).
 */
export function servicesAt(s: BotServices, place: Place): BotServices {
  const full = s.inventory();
  const inv = inventoryAt(full, place);
  if (inv === full) return s;
  const scope = s.incidentScope ?? (() => [...full.environments.values()]);
  return { ...s, inventory: () => inv, incidentScope: scope };
}

/** Parse a message and run its command; every failure becomes a card, never an exception. */
export async function dispatch(text: string, ctx: CommandContext, s: BotServices): Promise<void> {
  try {
    if (s.limits) {
      const t = await s.limits.limiter.take(
        `messages:${ctx.conversationKey}`,
        s.limits.limits.messagesPerConversation,
      );
      if (!t.ok) {
        // Answer the first refused message of the window only: each answer is a message too.
        if (t.first)
          await ctx.reply(failureCard(ctx.lang, new RateLimitedError('messages', t.waitMs), s.log));
        return;
      }
    }
    const here = servicesAt(s, ctx.place);
    const parsed = parseCommand(text, knowledgeOf(here.inventory()));
    if (!parsed.ok) {
      const e = parsed.error;
      // The answer is the ordinary "no such environment" (with suggestions from what this place
      // sees); only the log says it exists elsewhere.
      const why = e.kind === 'unknown-environment' && hiddenAt(s.inventory(), ctx.place, e.value);
      if (e.kind === 'unknown-environment' && why)
        logRefusal(s.log, {
          user: ctx.user,
          command: e.command,
          environment: e.value.toLowerCase(),
          reason: why,
        });
      await ctx.reply(parseErrorCard(ctx.lang, e));
      return;
    }
    const spec = commandSpec(parsed.command.name);
    const refused =
      spec.role === 'admin'
        ? await adminRefusal(s, ctx.lang, ctx.user, {
            command: spec.name,
            shown: spec.name,
            ...(parsed.args.environment ? { environment: parsed.args.environment } : {}),
          })
        : undefined;
    if (refused) {
      await ctx.reply(refused);
      return;
    }
    await handlerOf(spec.name)(ctx, parsed.args, here);
  } catch (err) {
    await ctx.reply(failureCard(ctx.lang, err, s.log));
  }
}

/**
 * A chat is not the server's console: absolute file paths (where secrets, keys and the CA are
 * kept) are cut to their file name, and the text is escaped for the card (src/render/escape.ts).
 */
export function hidePaths(text: string): string {
  const cut = text.replace(
    /(?<=^|[\s'"`(=])(?:[A-Za-z]:[\\/]|\\\\|\/)(?:[^\s'"`<>|]*[\\/])?([^\s'"`<>|\\/]+)/g,
    (_all, base: string) => `…/${base}`,
  );
  return escapeMarkdown(cut);
}

/** The card for an error a handler threw: input problems say what to fix; the rest is logged. */
export function failureCard(lang: Lang, err: unknown, log: BotLog): AdaptiveCard {
  const m = messages(lang);
  // Another run of the environment is in flight and does not cover this request: a refusal,
  // not a failure (src/queue/types.ts RunBusyError).
  if (err instanceof RunBusyError || err instanceof RateLimitedError)
    return errorCard(lang, escapeMarkdown(err.message));
  if (err instanceof InputError)
    return errorCard(
      lang,
      m.inputError(hidePaths(err.message)),
      err.hint ? [hidePaths(err.hint)] : [],
    );
  log.error({ err }, 'a command failed');
  return errorCard(lang, m.internalError);
}
