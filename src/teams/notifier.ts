/**
 * The Teams side of the notification outbox: sends and updates alert cards in stored
 * conversations through botbuilder (continueConversationAsync), and turns the connector's
 * HTTP failures into SendErrors the outbox knows how to retry (429/412/502/504, Retry-After).
 */
import { retryAfterMs } from '../notify/connector';
import { isAdaptiveCard, type AdaptiveCard } from '../render/card-data';
import { UntrustedServiceUrlError } from '../notify/service-url';
import { SendError, type Message, type Notifier, type SendResult } from '../notify/types';
import { UnknownConversationError, type Proactive } from './proactive';

function textCard(text: string): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [{ type: 'TextBlock', text, wrap: true }],
  };
}

/**
 * The card of a message, or a text card when it has none. A card that is not an Adaptive Card
 * is refused with a status the outbox does not retry (400): sending it again cannot help.
 */
function cardOf(message: Message): AdaptiveCard {
  if (message.card === undefined || message.card === null) return textCard(message.text ?? '');
  if (isAdaptiveCard(message.card)) return message.card;
  throw new SendError(
    'the message’s card is not an Adaptive Card (it needs type "AdaptiveCard", a version and a body); it was not sent',
    400,
  );
}

/** A connector failure as a SendError, keeping the status and Retry-After. */
function asSendError(err: unknown): unknown {
  if (err instanceof UnknownConversationError) return new SendError(err.message, 404);
  // A refused serviceUrl stays refused: never retried (../notify/service-url.ts).
  if (err instanceof UntrustedServiceUrlError) return new SendError(err.message, 403);
  const e = err as {
    statusCode?: number;
    response?: { headers?: { get?(n: string): string | undefined } };
  };
  if (typeof e?.statusCode === 'number') {
    const after = retryAfterMs(e.response?.headers?.get?.('retry-after') ?? null);
    return new SendError(`Teams connector answered ${e.statusCode}`, e.statusCode, after);
  }
  return err;
}

export class TeamsNotifier implements Notifier {
  constructor(private readonly proactive: Pick<Proactive, 'send' | 'update'>) {}

  async send(conversation: string, message: Message): Promise<SendResult> {
    try {
      const id = await this.proactive.send(conversation, cardOf(message));
      return id ? { activityId: id } : {};
    } catch (err) {
      throw asSendError(err);
    }
  }

  async update(conversation: string, activityId: string, message: Message): Promise<void> {
    try {
      await this.proactive.update(conversation, activityId, cardOf(message));
    } catch (err) {
      throw asSendError(err);
    }
  }
}
