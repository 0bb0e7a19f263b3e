/**
 * The Teams activity handler: messages become commands (./handlers.ts), card buttons
 * (`Action.Execute` → `adaptiveCard/action` invokes) re-run, share and show runs, and the
 * search message extension (`composeExtension/query`) lists recent runs. Every activity is
 * first checked against the tenant allowlist (./access.ts), then refreshes the stored
 * conversation reference. Card buttons follow the roles of ./commands.ts CARD_ACTIONS and see
 * only the environments of their place. Invokes answer within Teams' 5 s
 * (teams-bot-notes.md §2 "Timing", §3): the answer is the refreshed card, and the work itself
 * (the run, the snapshot post) goes on after it.
 */
import {
  CardFactory,
  TeamsActivityHandler,
  TeamsInfo,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type MessagingExtensionQuery,
  type MessagingExtensionResponse,
} from 'botbuilder';
import type { Run } from '../model';
import { itemIds } from '../checklist/items';
import { langOf, messages, stateWord, formatTime, type Lang } from '../i18n';
import type { AdaptiveCard } from '../render/card-data';
import {
  environmentOfRunId,
  hiddenAt,
  logRefusal,
  placeOf,
  seenAt,
  type Place,
  type Requester,
} from './access';
import { acknowledge, addNote, incidentCard, resolve, type IncidentVerb } from '../notify/incident';
import { parseRunId, storedRun } from '../bundle/bundle';
import { escapeMarkdown } from '../render/escape';
import { BUNDLE_LINK_TTL_MS, bundleCard } from './bundle-links';
import { parseCardAction, type CardAction } from './card-actions';
import { errorCard, finishedRunCard, noticeCard, sharePickerCard } from './cards';
import { cardAction } from './commands';
import {
  conversationKey,
  loadConversation,
  placeKey,
  saveConversation,
  type TeamsChannelData,
} from './conversations';
import {
  adminRefusal,
  dispatch,
  failureCard,
  rerun,
  servicesAt,
  shareTargets,
  type BotServices,
  type CommandContext,
} from './handlers';
import { cardMessage, type Proactive } from './proactive';
import { sameShareTarget, type ShareTarget } from './share-target';

/** Invokes must answer within 5 s; leave room for the network. */
const INVOKE_BUDGET_MS = 4000;
/** How many runs a message-extension search returns. */
const SEARCH_RESULTS = 10;

const CARD_RESPONSE = 'application/vnd.microsoft.card.adaptive';

function cardResponse(card: AdaptiveCard): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: CARD_RESPONSE, value: card };
}

/** Resolve with the promise, or with `late()` once the budget is spent (the work goes on). */
async function within<T>(p: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>(res => {
      timer = setTimeout(() => res(late()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function requester(ctx: TurnContext): Requester {
  const from = ctx.activity.from ?? { id: '' };
  const tenantId = placeOf(ctx.activity).tenantId;
  return {
    id: from.id,
    name: from.name || from.id,
    ...(from.aadObjectId ? { aadObjectId: from.aadObjectId } : {}),
    ...(tenantId ? { tenantId } : {}),
  };
}

/**
 * Why a re-run's data does not match the run its card shows, or undefined: the environment must
 * be the run's, the items among the run's (for Re-run failed, among its failed or errored ones).
 */
export function rerunProblem(
  run: Run,
  verb: 'rerun' | 'rerunFailed',
  environment: string,
  items: readonly string[] | undefined,
): string | undefined {
  if (environment !== run.environment) return 'environment: not the environment of this run';
  const allowed = run.findings
    .filter(f => verb === 'rerun' || f.status === 'fail' || f.status === 'error')
    .map(f => f.item as string);
  if (verb === 'rerunFailed' && !items?.length) return 'items: no failed items named';
  if (!items?.length && allowed.length < itemIds().length)
    return 'items: this run did not cover every item';
  const extra = (items ?? []).filter(i => !allowed.includes(i));
  if (extra.length)
    return `items: ${extra.join(', ')} not in this run${verb === 'rerunFailed' ? "'s failures" : ''}`;
  return undefined;
}

/** ecebot in Teams. */
/** A run id from card data, as a refusal shows it: short, and text rather than Markdown. */
function shownRunId(runId: string): string {
  return escapeMarkdown((runId || '?').slice(0, 80));
}

export class EcebotBot extends TeamsActivityHandler {
  constructor(
    private readonly s: BotServices,
    private readonly proactive: Proactive,
  ) {
    super();
    this.onMessage(async (ctx, next) => {
      await this.message(ctx);
      await next();
    });
  }

  /**
   * Every activity from an allowed tenant first refreshes the conversation's stored reference;
   * one from any other tenant is answered with the refusal and nothing else.
   */
  override async run(ctx: TurnContext): Promise<void> {
    const tenant = placeOf(ctx.activity).tenantId;
    if (!this.s.allowsTenant(tenant)) {
      await this.refuseTenant(ctx, tenant);
      return;
    }
    try {
      await saveConversation(this.s.store, ctx.activity);
    } catch (err) {
      this.s.log.warn({ err }, 'saving the conversation reference failed');
    }
    await super.run(ctx);
  }

  /** A message gets the refusal card; an invoke gets it as its answer; the log says why. */
  private async refuseTenant(ctx: TurnContext, tenant: string | undefined): Promise<void> {
    const a = ctx.activity;
    this.s.log.warn(
      {
        tenant,
        userObjectId: a.from?.aadObjectId,
        activityType: a.type,
        ...(a.name ? { activityName: a.name } : {}),
        reason: tenant ? 'tenant not allowed' : 'no tenant id on the activity',
      },
      'refused an activity from a tenant that is not allowed',
    );
    const lang = langOf(a.locale);
    const text = messages(lang).tenantRefused(tenant ?? '?');
    if (a.type === 'message') {
      await ctx.sendActivity(cardMessage(errorCard(lang, text)));
    } else if (a.type === 'invoke') {
      const body =
        a.name === 'composeExtension/query'
          ? { composeExtension: { type: 'message', text } }
          : cardResponse(errorCard(lang, text));
      await ctx.sendActivity({ type: 'invokeResponse', value: { status: 200, body } });
    }
  }

  /**
   * The place of an activity, for visibility: its tenant and team; without a tenant boundary
   * only when the services say none applies (local mode without ECEBOT_TENANTS).
   */
  private placeHere(ctx: TurnContext): Place {
    const place = placeOf(ctx.activity);
    return this.s.anyTenant ? { ...place, anyTenant: true } : place;
  }

  private commandContext(ctx: TurnContext): CommandContext {
    return {
      lang: langOf(ctx.activity.locale),
      user: requester(ctx),
      conversationKey: conversationKey(ctx.activity),
      placeKey: placeKey(ctx.activity),
      place: this.placeHere(ctx),
      reply: async card => (await ctx.sendActivity(cardMessage(card)))?.id,
      teamChannels: () => this.teamChannels(ctx),
    };
  }

  private async message(ctx: TurnContext): Promise<void> {
    // Action.Submit posts arrive as messages with a value and no text; ecebot's cards use
    // Action.Execute only, so such a message is not a command.
    if (!ctx.activity.text && ctx.activity.value) return;
    // In channels the text starts with `<at>ecebot</at>`; drop the bot's own mention.
    const text = TurnContext.removeRecipientMention(ctx.activity) ?? ctx.activity.text ?? '';
    await dispatch(text, this.commandContext(ctx), this.s);
  }

  /** The channels of the team the activity came from, as share targets. */
  private async teamChannels(ctx: TurnContext): Promise<ShareTarget[]> {
    const team = (ctx.activity.channelData as TeamsChannelData | undefined)?.team;
    if (!team?.id) return [];
    const lang = langOf(ctx.activity.locale);
    const channels = await TeamsInfo.getTeamChannels(ctx, team.id);
    return channels.flatMap((c): ShareTarget[] => {
      if (!c.id) return [];
      // The General channel comes back without a name (its id is the team's id).
      const name = c.name || messages(lang).generalChannel;
      const title = team.name ? `${team.name} › ${name}` : name;
      return [{ kind: 'channel', id: c.id, title }];
    });
  }

  protected override async onAdaptiveCardInvoke(
    ctx: TurnContext,
    value: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    const lang = langOf(ctx.activity.locale);
    const work = this.action(ctx, value, lang).catch(err =>
      cardResponse(failureCard(lang, err, this.s.log)),
    );
    return within(work, INVOKE_BUDGET_MS, () => cardResponse(errorCard(lang, messages(lang).busy)));
  }

  private async action(
    ctx: TurnContext,
    value: AdaptiveCardInvokeValue,
    lang: Lang,
  ): Promise<AdaptiveCardInvokeResponse> {
    const m = messages(lang);
    const verb = value.action?.verb ?? '';
    const user = requester(ctx);
    const spec = cardAction(verb);
    if (!spec) return cardResponse(errorCard(lang, m.unknownAction(verb || '?')));
    const place = this.placeHere(ctx);
    if (spec.role === 'admin') {
      const refused = await adminRefusal(this.s, lang, user, {
        command: verb,
        shown: spec.command,
      });
      if (refused) return cardResponse(refused);
    }
    // The data is whatever the client sent: parse it before anything reads it (./card-actions.ts).
    const parsed = parseCardAction(spec.verb, value.action?.data);
    if (!parsed.ok) {
      logRefusal(this.s.log, { user, command: verb, reason: `bad card data: ${parsed.problem}` });
      return cardResponse(errorCard(lang, m.badAction(verb, parsed.problem), [m.badActionHint]));
    }
    const action = parsed.action;
    if (action.verb === 'ackAlert' || action.verb === 'resolveAlert' || action.verb === 'noteAlert')
      return this.incidentAction(action, user, place, lang);
    const runId = action.data.runId ?? '';
    // The environment the button is about: named on the button, else the run's.
    const stored = runId ? await this.s.store.getRun(runId) : undefined;
    const environment =
      (action.verb === 'rerun' || action.verb === 'rerunFailed' ? action.data.environment : '') ||
      stored?.environment ||
      environmentOfRunId(runId);
    // The button's environment must exist for the presser's place (tenant and team). Another
    // tenant's is answered as a run that never was, so the answer does not tell it exists; one
    // of the same tenant restricted to other teams keeps the "not here" answer; one no longer
    // in the inventory is refused too (nothing re-runs, shows or shares it).
    if (environment && !seenAt(this.s.inventory(), place, environment)) {
      const why = hiddenAt(this.s.inventory(), place, environment);
      logRefusal(this.s.log, {
        user,
        command: verb,
        environment,
        reason: why ?? 'environment not in the inventory',
      });
      return cardResponse(
        errorCard(
          lang,
          why === 'environment restricted to other teams'
            ? m.notHere
            : m.unknownRun(shownRunId(runId)),
        ),
      );
    }
    const here = servicesAt(this.s, place);
    switch (action.verb) {
      case 'rerun':
      case 'rerunFailed': {
        if (!environment) return cardResponse(errorCard(lang, m.unknownRun(shownRunId(runId))));
        const items = action.data.items;
        // The button's data came from the client: a re-run may only ask for what the card's run
        // covered (Re-run failed: what failed), in that run's environment.
        const problem = stored ? rerunProblem(stored, action.verb, environment, items) : undefined;
        if (problem) {
          logRefusal(this.s.log, { user, command: verb, reason: `bad card data: ${problem}` });
          return cardResponse(errorCard(lang, m.badAction(verb, problem), [m.badActionHint]));
        }
        const { card } = await rerun(
          here,
          {
            environment,
            ...(items ? { items } : {}),
            reason: 'rerun',
            requestedBy: { id: user.id, name: user.name },
          },
          {
            conversationKey: conversationKey(ctx.activity),
            ...(ctx.activity.replyToId ? { activityId: ctx.activity.replyToId } : {}),
          },
          lang,
        );
        return cardResponse(card);
      }
      case 'share': {
        const run = stored;
        if (!run) return cardResponse(errorCard(lang, m.unknownRun(shownRunId(runId))));
        const targets = await shareTargets(here, run, lang, () => this.teamChannels(ctx));
        return cardResponse(sharePickerCard(lang, run, targets, 'run'));
      }
      case 'shareTo': {
        const run = stored;
        if (!run) return cardResponse(errorCard(lang, m.unknownRun(shownRunId(runId))));
        // Only a place the picker offers from here: a crafted target cannot post elsewhere
        // (another team's channel, a conversation outside a restricted environment's teams).
        // The offered target is used, so its title is ecebot's, not the card's.
        const offered = await shareTargets(here, run, lang, () => this.teamChannels(ctx));
        const target = offered.find(t => sameShareTarget(t, action.data.target));
        if (!target) {
          logRefusal(this.s.log, {
            user,
            command: verb,
            environment: run.environment,
            reason: 'share target not offered here',
          });
          return cardResponse(errorCard(lang, m.shareNotOffered));
        }
        const outcome = await this.shareTo(ctx, run, target, user, lang);
        if (action.data.back === 'run')
          return cardResponse(finishedRunCard(run, { lang, notice: outcome.text }));
        return cardResponse(noticeCard(outcome.text, outcome.ok ? 'good' : 'warning'));
      }
      case 'showRun': {
        const card = await this.s.runCards.currentCard(runId, lang);
        return cardResponse(card ?? errorCard(lang, m.unknownRun(shownRunId(runId))));
      }
      case 'dismiss':
        return cardResponse(noticeCard(m.cancel));
      case 'bundle': {
        // Admins only (checked above), a run id ecebot makes, a run stored for an environment
        // this place sees (checked above): anything else is a run that never was.
        const run = await storedRun(this.s.store, runId);
        if (!run || !parseRunId(runId)) {
          logRefusal(this.s.log, { user, command: verb, reason: 'no such run' });
          return cardResponse(errorCard(lang, m.unknownRun(shownRunId(runId))));
        }
        const offer = this.s.bundles?.offer(run.id, user.aadObjectId ?? user.id);
        this.s.log.info(
          { runId: run.id, userObjectId: user.aadObjectId, link: !!offer },
          'support bundle offered',
        );
        // The invoke's answer goes to the presser's client alone (teams-bot-notes.md §3): the
        // link is never posted to the conversation.
        return cardResponse(bundleCard(lang, run.id, offer, BUNDLE_LINK_TTL_MS / 60_000));
      }
    }
  }

  /**
   * Acknowledge, Resolve, Add note on an alert card (docs/on-call.md). Anyone who sees the
   * environment here may press them; an alert of an environment this place does not see
   * (another tenant's, one restricted to other teams, one gone from the inventory) is answered
   * as an alert that never was, and the log says why. The answer is the changed card for the
   * presser (Universal Actions: the invoke response replaces the card for that user only), and
   * every post of the alert is updated in place for everyone through the outbox (`publish`).
   */
  private async incidentAction(
    action: Extract<CardAction, { verb: IncidentVerb }>,
    user: Requester,
    place: Place,
    lang: Lang,
  ): Promise<AdaptiveCardInvokeResponse> {
    const m = messages(lang);
    const oc = this.s.oncall;
    const id = action.data.incident;
    const found = oc ? await oc.state.get(id) : undefined;
    if (!oc || !found || !seenAt(this.s.inventory(), place, found.environment)) {
      if (found)
        logRefusal(this.s.log, {
          user,
          command: action.verb,
          environment: found.environment,
          reason:
            hiddenAt(this.s.inventory(), place, found.environment) ??
            'environment not in the inventory',
        });
      return cardResponse(errorCard(lang, m.unknownAlert));
    }
    // Names are bounded as the state keeps them (incident-state.ts); escaped when shown.
    const by = {
      id: user.id.slice(0, 200),
      name: user.name.slice(0, 200),
      at: this.s.now().toISOString(),
    };
    const r = await oc.state.update(id, i => {
      switch (action.verb) {
        case 'ackAlert':
          return acknowledge(i, by);
        case 'resolveAlert':
          return resolve(i, by);
        case 'noteAlert':
          return addNote(i, { by: by.name, at: by.at, text: action.data.note });
      }
    });
    if (!r) return cardResponse(errorCard(lang, m.unknownAlert));
    if (r.changed) await oc.publish?.(r.incident);
    return cardResponse(incidentCard(r.incident, lang));
  }

  /** Post a snapshot of a finished run to a target, naming who shared it. */
  private async shareTo(
    ctx: TurnContext,
    run: Run,
    target: ShareTarget,
    user: Requester,
    lang: Lang,
  ): Promise<{ ok: boolean; text: string }> {
    const m = messages(lang);
    const at = this.s.now();
    try {
      switch (target.kind) {
        case 'conversation': {
          const rec = await loadConversation(this.s.store, target.id);
          const where = rec?.name ?? target.id;
          const card = finishedRunCard(run, {
            lang: rec?.locale ? langOf(rec.locale) : lang,
            sharedBy: { name: user.name, at },
          });
          await this.proactive.send(target.id, card);
          return { ok: true, text: m.sharedTo(where) };
        }
        case 'channel': {
          const cd = ctx.activity.channelData as TeamsChannelData | undefined;
          const card = finishedRunCard(run, { lang, sharedBy: { name: user.name, at } });
          await this.proactive.postToChannel(
            ctx.activity.serviceUrl,
            target.id,
            cd?.tenant?.id,
            card,
          );
          return { ok: true, text: m.sharedTo(target.title) };
        }
      }
    } catch (err) {
      this.s.log.warn({ err, runId: run.id }, 'sharing a run failed');
      return { ok: false, text: m.shareFailed(target.title) };
    }
  }

  protected override async handleTeamsMessagingExtensionQuery(
    ctx: TurnContext,
    query: MessagingExtensionQuery,
  ): Promise<MessagingExtensionResponse> {
    const lang = langOf(ctx.activity.locale);
    const text = query.parameters?.find(p => p.name === 'query')?.value;
    const q = typeof text === 'string' ? text.trim() : '';
    const inv = this.s.inventory();
    const place = this.placeHere(ctx);
    const search = async (): Promise<MessagingExtensionResponse> => {
      // Only runs of environments that exist here (this tenant's, this team's): others' and
      // those of environments gone from the inventory are left out; ask for more so a page of
      // hidden runs does not empty the answer.
      const found = (await this.s.store.searchRuns(q, SEARCH_RESULTS * 5))
        .filter(r => seenAt(inv, place, r.environment))
        .slice(0, SEARCH_RESULTS);
      const attachments = [];
      for (const summary of found) {
        const run = await this.s.store.getRun(summary.id);
        if (!run) continue;
        const preview = CardFactory.thumbnailCard(
          `${run.environment} · ${stateWord(run.status, lang)}`,
          `${formatTime(run.finishedAt)} · ${run.id}`,
        );
        attachments.push({ ...CardFactory.adaptiveCard(finishedRunCard(run, { lang })), preview });
      }
      return { composeExtension: { type: 'result', attachmentLayout: 'list', attachments } };
    };
    return within(search(), INVOKE_BUDGET_MS, () => ({
      composeExtension: { type: 'message', text: messages(lang).busy },
    }));
  }
}
