/**
 * Messages outside the turn that caused them: updating a run card in place, posting a card to a
 * stored conversation, starting a new post in a team channel. Each goes through the adapter's
 * proactive API with the stored reference (teams-bot-notes.md §2): `continueConversationAsync`
 * then `updateActivity` (PUT …/activities/{id}) or `sendActivity`; `createConversationAsync`
 * (POST /v3/conversations) for a new channel post. With auth enabled, the app id passed must be
 * MicrosoftAppId; without (local mode) it is ''.
 *
 * Redis is a trust boundary: a stored reference is checked (./conversations.ts) and its
 * serviceUrl followed only on the connector hosts of ../notify/service-url.ts, since botbuilder
 * signs every outbound call with the bot's token whatever the host.
 */
import {
  CardFactory,
  MessageFactory,
  type CloudAdapter,
  type ConversationParameters,
  type TurnContext,
} from 'botbuilder';
import {
  serviceUrlPolicyFrom,
  serviceUrlRefusal,
  UntrustedServiceUrlError,
  type ServiceUrlPolicy,
} from '../notify/service-url';
import type { AdaptiveCard } from '../render/card-data';
import type { Store } from '../store/types';
import { readConversation } from './conversations';
import { SILENT_LOG, type BotLog } from './log';
import type { CardUpdater } from './run-cards';

/** A message activity carrying one Adaptive Card. */
export function cardMessage(card: AdaptiveCard) {
  return MessageFactory.attachment(CardFactory.adaptiveCard(card));
}

/** Thrown when a conversation key has no stored reference. */
export class UnknownConversationError extends Error {
  constructor(readonly key: string) {
    super(`no conversation reference stored for ${key}`);
    this.name = 'UnknownConversationError';
  }
}

/** Options of Proactive. */
export interface ProactiveOptions {
  /** Hosts followed (default: the public cloud's, plus loopback when `appId` is empty). */
  serviceUrls?: ServiceUrlPolicy;
  log?: BotLog;
}

/** Proactive sends and updates through the Bot Connector. */
export class Proactive implements CardUpdater {
  private readonly serviceUrls: ServiceUrlPolicy;
  private readonly log: BotLog;

  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly store: Store,
    opts: ProactiveOptions = {},
  ) {
    this.serviceUrls = opts.serviceUrls ?? serviceUrlPolicyFrom({ MicrosoftAppId: appId });
    this.log = opts.log ?? SILENT_LOG;
  }

  /** Refuse (and log, with the host and reason only) a serviceUrl off the allowlist. */
  private trusted(conversation: string, serviceUrl: unknown): void {
    const reason = serviceUrlRefusal(serviceUrl, this.serviceUrls);
    if (!reason) return;
    const err = new UntrustedServiceUrlError(conversation, reason);
    this.log.warn({ code: err.code, conversation, reason }, 'conversation reference refused');
    throw err;
  }

  private async continueIn(key: string, logic: (ctx: TurnContext) => Promise<void>) {
    const stored = await readConversation(this.store, key);
    if (stored.state === 'malformed')
      this.log.warn(
        { code: 'MALFORMED_CONVERSATION_RECORD', conversation: key, fields: stored.fields },
        'stored conversation record does not match what ecebot writes; not followed',
      );
    if (stored.state !== 'ok') throw new UnknownConversationError(key);
    this.trusted(key, stored.record.reference.serviceUrl);
    await this.adapter.continueConversationAsync(this.appId, stored.record.reference, logic);
  }

  /** Replace a posted card (PUT /v3/conversations/{id}/activities/{activityId}). */
  async update(key: string, activityId: string, card: AdaptiveCard): Promise<void> {
    await this.continueIn(key, async ctx => {
      await ctx.updateActivity({ ...cardMessage(card), id: activityId });
    });
  }

  /** Post a card to a stored conversation; resolves to the new activity's id. */
  async send(key: string, card: AdaptiveCard): Promise<string | undefined> {
    let id: string | undefined;
    await this.continueIn(key, async ctx => {
      id = (await ctx.sendActivity(cardMessage(card)))?.id;
    });
    return id;
  }

  /**
   * Start a new post in a team channel (what TeamsInfo.sendMessageToTeamsChannel does, which
   * needs an app id and so cannot run in local mode). Resolves to the new thread's id
   * (botbuilder's create activity carries the conversation id only, not the post's id).
   */
  async postToChannel(
    serviceUrl: string,
    channelId: string,
    tenantId: string | undefined,
    card: AdaptiveCard,
  ): Promise<{ conversationId: string }> {
    const params = {
      isGroup: true,
      channelData: {
        channel: { id: channelId },
        ...(tenantId ? { tenant: { id: tenantId } } : {}),
      },
      activity: cardMessage(card),
    } as ConversationParameters;
    this.trusted(channelId, serviceUrl);
    let conversationId = '';
    // An undefined audience makes the connector use its default OAuth scope (connectorFactoryImpl).
    await this.adapter.createConversationAsync(
      this.appId,
      'msteams',
      serviceUrl,
      undefined as unknown as string,
      params,
      async ctx => {
        conversationId = ctx.activity.conversation.id;
      },
    );
    return { conversationId };
  }
}
