/**
 * Messages outside the turn that caused them: updating a run card in place, posting a card to a
 * stored conversation, starting a new post in a team channel. Each goes through the adapter's
 * proactive API with the stored reference (teams-bot-notes.md §2): `continueConversationAsync`
 * then `updateActivity` (PUT …/activities/{id}) or `sendActivity`; `createConversationAsync`
 * (POST /v3/conversations) for a new channel post. With auth enabled, the app id passed must be
 * MicrosoftAppId; without (local mode) it is ''.
 */
import {
  CardFactory,
  MessageFactory,
  type CloudAdapter,
  type ConversationParameters,
  type TurnContext,
} from 'botbuilder';
import type { AdaptiveCard } from '../render/card-data';
import type { Store } from '../store/types';
import { loadConversation } from './conversations';
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

/** Proactive sends and updates through the Bot Connector. */
export class Proactive implements CardUpdater {
  constructor(
    private readonly adapter: CloudAdapter,
    private readonly appId: string,
    private readonly store: Store,
  ) {}

  private async continueIn(key: string, logic: (ctx: TurnContext) => Promise<void>) {
    const rec = await loadConversation(this.store, key);
    if (!rec) throw new UnknownConversationError(key);
    await this.adapter.continueConversationAsync(this.appId, rec.reference, logic);
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
